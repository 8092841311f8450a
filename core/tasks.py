"""Task service: create, read, change and merge tasks; human changes become labels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import func
from sqlmodel import Session, col, select

from core import events
from core.models import (
    PRIORITY_RANK,
    Kind,
    Label,
    Message,
    Priority,
    Task,
    TaskMessage,
    TaskStatus,
    utcnow,
)
from core.schemas import TaskCreate, TaskUpdate


class TaskNotFound(LookupError):
    pass


class TaskConflict(Exception):
    """Someone else changed the task since the caller read it."""


class InvalidTaskChange(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


SortKey = Literal["triage", "newest", "oldest", "priority", "updated"]


@dataclass
class TaskFilter:
    status: list[TaskStatus] | None = None
    kind: list[Kind] | None = None
    priority: list[Priority] | None = None
    chat_id: str | None = None
    assignee: str | None = None
    search: str | None = None


def task_message_ids(session: Session, task_ids: list[int]) -> dict[int, list[int]]:
    rows = session.exec(
        select(TaskMessage.task_id, TaskMessage.message_id)
        .where(col(TaskMessage.task_id).in_(task_ids))
        .order_by(col(TaskMessage.message_id))
    ).all()
    result: dict[int, list[int]] = {tid: [] for tid in task_ids}
    for task_id, message_id in rows:
        result[task_id].append(message_id)
    return result


def task_payload(task: Task | None, message_ids: list[int] | None = None) -> dict[str, Any]:
    """The event payload describing a task."""
    if task is None:
        return {}
    data = task.model_dump(mode="json", exclude={"priority_rank", "description"}, warnings=False)
    if message_ids is not None:
        data["message_ids"] = message_ids
    return data


def get_task(session: Session, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise TaskNotFound(task_id)
    return task


def create_task(session: Session, data: TaskCreate) -> tuple[Task, list[dict[str, Any]]]:
    """A manual task, optionally linked to stored messages."""
    found = set(session.exec(select(Message.id).where(col(Message.id).in_(data.message_ids))).all())
    missing = sorted(set(data.message_ids) - found)
    if missing:
        raise InvalidTaskChange("message_ids", f"unknown message ids: {missing[:10]}")
    task = Task(
        title=data.title,
        description=data.description,
        kind=data.kind,
        priority=data.priority,
        priority_rank=PRIORITY_RANK[data.priority],
        assignee=data.assignee,
        status=TaskStatus.new,
    )
    session.add(task)
    session.flush()
    for message_id in dict.fromkeys(data.message_ids):
        session.add(TaskMessage(task_id=task.id or 0, message_id=message_id, role="manual"))
    session.flush()
    event = events.record_event(session, events.TASK_CREATED, task_payload(task, data.message_ids))
    return task, [event]


def update_task(
    session: Session,
    task_id: int,
    change: TaskUpdate,
    *,
    origin: str = "api",
    author: str | None = None,
) -> tuple[Task, list[dict[str, Any]]]:
    """Apply a human change; a stale `expected_version` raises TaskConflict."""
    task = session.exec(select(Task).where(Task.id == task_id).with_for_update()).first()
    if task is None:
        raise TaskNotFound(task_id)
    if change.expected_version is not None and change.expected_version != task.version:
        raise TaskConflict(f"task {task_id} is at version {task.version}, not {change.expected_version}")
    values = change.model_dump(exclude_unset=True, exclude={"expected_version"})
    values = {k: v for k, v in values.items() if getattr(task, k) != v}
    if not values:
        return task, []
    for key, value in values.items():
        setattr(task, key, value)
    if "priority" in values:
        task.priority_rank = PRIORITY_RANK[task.priority]
    task.needs_review = False
    task.version += 1
    task.updated_at = utcnow()
    session.add(task)
    _record_labels(session, task, _action_for(values), origin, author)
    session.flush()
    return task, [events.record_event(session, events.TASK_UPDATED, task_payload(task))]


def _action_for(values: dict[str, Any]) -> str:
    status = values.get("status")
    if status == TaskStatus.rejected:
        return "reject"
    if status in (TaskStatus.accepted, TaskStatus.in_progress, TaskStatus.done) and len(values) == 1:
        return "accept"
    return "correct"


def _record_labels(session: Session, task: Task, action: str, origin: str, author: str | None) -> None:
    """Each source message of the task gets the human's verdict as a training label."""
    kind = Kind.noise if action == "reject" else task.kind
    for message_id in task_message_ids(session, [task.id or 0])[task.id or 0]:
        session.add(
            Label(
                message_id=message_id,
                task_id=task.id,
                kind=kind,
                priority=None if kind == Kind.noise else task.priority,
                title=task.title,
                action=action,
                origin=origin,
                author=author,
            )
        )


def list_tasks(
    session: Session, flt: TaskFilter, *, limit: int = 50, offset: int = 0, sort: SortKey = "triage"
) -> tuple[list[Task], int]:
    """Tasks matching the filter, one page of them, and how many match in all."""
    query = select(Task).where(col(Task.merged_into_id).is_(None))
    if flt.status:
        query = query.where(col(Task.status).in_(flt.status))
    if flt.kind:
        query = query.where(col(Task.kind).in_(flt.kind))
    if flt.priority:
        query = query.where(col(Task.priority).in_(flt.priority))
    if flt.chat_id:
        query = query.where(Task.chat_id == flt.chat_id)
    if flt.assignee:
        query = query.where(Task.assignee == flt.assignee)
    if flt.search:
        query = query.where(col(Task.title).ilike(f"%{flt.search}%"))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    order = {
        "triage": (col(Task.priority_rank), col(Task.created_at).desc()),
        "newest": (col(Task.created_at).desc(),),
        "oldest": (col(Task.created_at),),
        "priority": (col(Task.priority_rank), col(Task.id)),
        "updated": (col(Task.updated_at).desc(),),
    }[sort]
    rows = session.exec(query.order_by(*order, col(Task.id).desc()).offset(offset).limit(limit)).all()
    return list(rows), int(total)
