"""What a chat has open: counts by kind and priority, and the top tasks."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from core.models import Kind, Priority, Task, TaskStatus
from core.triage.queries import TaskFilter, list_tasks

OPEN = [TaskStatus.new, TaskStatus.accepted, TaskStatus.in_progress]


def open_counts(session: Session, chat_id: str) -> dict[tuple[Kind, Priority], int]:
    """How many open tasks the chat has, by (kind, priority)."""
    rows = session.exec(
        select(Task.kind, Task.priority, func.count())
        .where(Task.chat_id == chat_id, col(Task.status).in_(OPEN), col(Task.merged_into_id).is_(None))
        .group_by(col(Task.kind), col(Task.priority))
    ).all()
    return {(Kind(kind), Priority(priority)): int(n) for kind, priority, n in rows}


def top_open(session: Session, chat_id: str, limit: int = 10) -> list[Task]:
    """The chat's open tasks, most urgent first."""
    tasks, _ = list_tasks(session, TaskFilter(status=OPEN, chat_id=chat_id), limit=limit, sort="triage")
    return tasks
