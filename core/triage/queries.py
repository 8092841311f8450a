"""Task queries: one task, a filtered and sorted page of them, their messages, the assignees."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, func, or_
from sqlmodel import Session, col, select

from core.conversations.tasks import similar_tasks
from core.messages.search import message_text_matches
from core.models import (
    Kind,
    Message,
    Priority,
    Task,
    TaskChange,
    TaskExport,
    TaskMessage,
    TaskMessageRole,
    TaskStatus,
)
from core.schemas import SimilarTask, TaskChangePublic, TaskDetail, TaskMessagePublic


class TaskNotFound(LookupError):
    pass


SortKey = Literal["triage", "newest", "oldest", "priority", "updated"]
SORT_ORDERS: dict[SortKey, tuple[Any, ...]] = {
    "triage": (col(Task.priority_rank), col(Task.created_at).desc()),
    "newest": (col(Task.created_at).desc(),),
    "oldest": (col(Task.created_at),),
    "priority": (col(Task.priority_rank), col(Task.id)),
    "updated": (col(Task.updated_at).desc(),),
}


@dataclass
class TaskFilter:
    status: list[TaskStatus] | None = None
    kind: list[Kind] | None = None
    priority: list[Priority] | None = None
    chat_id: str | None = None
    assignee: str | None = None
    search: str | None = None
    """Words in the title or in the text of any of the task's messages."""
    created_from: datetime | None = None
    created_to: datetime | None = None
    """Exclusive upper bound."""
    source: str | None = None
    """The channel (telegram, slack, email) one of the task's messages came through."""
    exported_to: str | None = None
    """The export target holding an issue of the task (`tracker exports list`)."""


def get_task(session: Session, task_id: int) -> Task:
    """The task with this id; TaskNotFound when there is none."""
    task = session.get(Task, task_id)
    if task is None:
        raise TaskNotFound(task_id)
    return task


def task_message_ids(session: Session, task_ids: list[int]) -> dict[int, list[int]]:
    """The ids of each task's messages, in id order."""
    return {tid: list(roles) for tid, roles in task_message_roles(session, task_ids).items()}


def task_message_roles(session: Session, task_ids: list[int]) -> dict[int, dict[int, TaskMessageRole]]:
    """Each task's messages (id -> role), in id order."""
    rows = session.exec(
        select(TaskMessage.task_id, TaskMessage.message_id, TaskMessage.role)
        .where(col(TaskMessage.task_id).in_(task_ids))
        .order_by(col(TaskMessage.message_id))
    ).all()
    result: dict[int, dict[int, TaskMessageRole]] = {tid: {} for tid in task_ids}
    for task_id, message_id, role in rows:
        result[task_id][message_id] = TaskMessageRole(role)
    return result


def task_messages(session: Session, task_id: int) -> list[TaskMessagePublic]:
    """The task's messages in the order they were sent, each with its role."""
    rows = session.exec(
        select(TaskMessage.role, Message)
        .join(Message, col(Message.id) == TaskMessage.message_id)
        .where(TaskMessage.task_id == task_id)
        .order_by(func.coalesce(Message.sent_at, Message.created_at), col(Message.id))
    ).all()
    return [
        TaskMessagePublic(
            message_id=m.id or 0, role=TaskMessageRole(role), author=m.author, sent_at=m.sent_at, text=m.text
        )
        for role, m in rows
    ]


def task_history(session: Session, task_id: int) -> list[TaskChangePublic]:
    """Every change of the task, oldest first, with its evidence."""
    rows = session.exec(
        select(TaskChange).where(TaskChange.task_id == task_id).order_by(col(TaskChange.id))
    ).all()
    return [TaskChangePublic.model_validate(row, from_attributes=True) for row in rows]


def task_detail(session: Session, task_id: int) -> TaskDetail:
    """The task with its conversation, its history and the open tasks most like it."""
    task = get_task(session, task_id)
    detail = TaskDetail.model_validate(task, from_attributes=True)
    detail.messages = task_messages(session, task_id)
    detail.message_ids = sorted(m.message_id for m in detail.messages)
    detail.history = task_history(session, task_id)
    detail.similar = [
        SimilarTask(id=t.id or 0, title=t.title, status=t.status, similarity=round(score, 3))
        for t, score in similar_tasks(session, task)
    ]
    return detail


def list_tasks(
    session: Session, flt: TaskFilter, *, limit: int = 50, offset: int = 0, sort: SortKey = "triage"
) -> tuple[list[Task], int]:
    """Tasks matching the filter, one page of them, and how many match in all."""
    query = select(Task).where(col(Task.merged_into_id).is_(None), *_conditions(flt))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    page = query.order_by(*SORT_ORDERS[sort], col(Task.id).desc()).offset(offset).limit(limit)
    return list(session.exec(page).all()), int(total)


def _conditions(flt: TaskFilter) -> list[ColumnElement[bool]]:
    """The WHERE conditions of the filter's fields that are set."""
    conditions: list[ColumnElement[bool]] = []
    if flt.status:
        conditions.append(col(Task.status).in_(flt.status))
    if flt.kind:
        conditions.append(col(Task.kind).in_(flt.kind))
    if flt.priority:
        conditions.append(col(Task.priority).in_(flt.priority))
    if flt.chat_id:
        conditions.append(col(Task.chat_id) == flt.chat_id)
    if flt.source:
        conditions.append(_from_channel(flt.source))
    if flt.assignee:
        conditions.append(col(Task.assignee) == flt.assignee)
    if flt.exported_to:
        conditions.append(_exported_to(flt.exported_to))
    if flt.search:
        conditions.append(_text_matches(flt.search))
    if flt.created_from:
        conditions.append(col(Task.created_at) >= flt.created_from)
    if flt.created_to:
        conditions.append(col(Task.created_at) < flt.created_to)
    return conditions


def _text_matches(search: str) -> ColumnElement[bool]:
    """The title contains `search` (trigram-indexed), or the text of one of the task's
    messages holds its words (full-text search, see core.messages.search)."""
    pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    in_messages = (
        select(TaskMessage.task_id)
        .join(Message, col(Message.id) == TaskMessage.message_id)
        .where(message_text_matches(search))
    )
    return or_(col(Task.title).ilike(pattern, escape="\\"), col(Task.id).in_(in_messages))


def _from_channel(source: str) -> ColumnElement[bool]:
    """One of the task's messages came through this channel."""
    through = (
        select(TaskMessage.task_id)
        .join(Message, col(Message.id) == TaskMessage.message_id)
        .where(col(Message.source) == source)
    )
    return col(Task.id).in_(through)


def _exported_to(target: str) -> ColumnElement[bool]:
    """The target has an issue of the task (exported, or being updated or retried since)."""
    exported = select(TaskExport.task_id).where(
        TaskExport.target == target, col(TaskExport.external_id).is_not(None)
    )
    return col(Task.id).in_(exported)


def list_assignees(session: Session) -> list[str]:
    """Everyone who has a task assigned, by name."""
    rows = session.exec(
        select(Task.assignee).where(col(Task.assignee).is_not(None)).distinct().order_by(col(Task.assignee))
    ).all()
    return [name for name in rows if name]
