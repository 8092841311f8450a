"""Task commands: create, change, decide on and merge tasks; human changes become labels."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlmodel import Session, col, select

from core import events
from core.conversations import progress
from core.conversations.tasks import detach
from core.exports.plan import on_merge, on_task_change
from core.models import (
    PRIORITY_RANK,
    ChangeOrigin,
    LabelAction,
    LabelOrigin,
    Message,
    Task,
    TaskMessage,
    TaskMessageRole,
    TaskStatus,
    utcnow,
)
from core.schemas import TaskCreate, TaskUpdate
from core.triage.labels import action_for_change, label, label_task_messages
from core.triage.queries import TaskNotFound, task_message_ids


class TaskConflict(Exception):
    """Someone else changed the task since the caller read it."""


class InvalidTaskChange(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


Decided = tuple[Task, list[dict[str, Any]]]
Decision = Callable[..., Decided]
"""A triage decision on one task: called as decide(session, task_id, expected_version=...)."""


def create_task(session: Session, data: TaskCreate) -> Decided:
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
        session.add(TaskMessage(task_id=task.id or 0, message_id=message_id, role=TaskMessageRole.manual))
    session.flush()
    event = events.record_event(session, events.TASK_CREATED, events.task_payload(task, data.message_ids))
    return task, [event, *on_task_change(session, task, created=True)]


def update_task(
    session: Session,
    task_id: int,
    change: TaskUpdate,
    *,
    origin: LabelOrigin = LabelOrigin.api,
    author: str | None = None,
    action: LabelAction | None = None,
) -> Decided:
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
    if "priority" in values:
        values["priority_rank"] = PRIORITY_RANK[values["priority"]]
    # Recorded as a person's change: the chat never overrides these fields afterwards.
    progress.apply(session, task, values, origin=ChangeOrigin.human, author=author or origin.value)
    task.needs_review = False
    label_task_messages(session, task, action or action_for_change(values), origin, author)
    session.flush()
    exports = on_task_change(session, task, accepted=values.get("status") == TaskStatus.accepted)
    return task, [events.record_event(session, events.TASK_UPDATED, events.task_payload(task)), *exports]


def change_task(
    session: Session,
    task_id: int,
    values: Mapping[str, Any],
    *,
    expected_version: int | None = None,
    origin: LabelOrigin = LabelOrigin.api,
    author: str | None = None,
    action: LabelAction | None = None,
) -> Decided:
    """`update_task` from plain values; an invalid value raises InvalidTaskChange naming the field."""
    try:
        change = TaskUpdate.model_validate({**values, "expected_version": expected_version})
    except ValidationError as exc:
        error = exc.errors()[0]
        raise InvalidTaskChange(str(error["loc"][0]), _reason(error)) from exc
    return update_task(session, task_id, change, origin=origin, author=author, action=action)


def _reason(error: ErrorDetails) -> str:
    return "must not be empty" if error["type"] == "string_too_short" else error["msg"]


def accept_task(session: Session, task_id: int, **who: Any) -> Decided:
    """The classification is right: the task is accepted (labels: accept)."""
    return change_task(session, task_id, {"status": TaskStatus.accepted}, **who)


def reject_task(session: Session, task_id: int, **who: Any) -> Decided:
    """Nothing to track: the task is rejected and its messages labelled noise."""
    return change_task(session, task_id, {"status": TaskStatus.rejected}, **who)


def assign_task(session: Session, task_id: int, assignee: str | None, **who: Any) -> Decided:
    """Give the task to someone (an empty name unassigns it)."""
    name = (assignee or "").strip() or None
    return change_task(session, task_id, {"assignee": name}, action=LabelAction.assign, **who)


def merge_task(
    session: Session,
    task_id: int,
    into_id: int,
    *,
    expected_version: int | None = None,
    origin: LabelOrigin = LabelOrigin.api,
    author: str | None = None,
) -> Decided:
    """Merge a duplicate into another task: its messages join the target as duplicates."""
    if task_id == into_id:
        raise InvalidTaskChange("into_id", f"task {task_id} cannot be merged into itself")
    task, target = _lock_pair(session, task_id, into_id)
    _check_merge(task, target, expected_version)
    links = task_message_ids(session, [task_id, into_id])
    for message_id in links[task_id]:
        if message_id not in links[into_id]:
            session.add(TaskMessage(task_id=into_id, message_id=message_id, role=TaskMessageRole.duplicate))
        # The human said: this message is about the same thing as the target task.
        session.add(label(message_id, LabelAction.merge, origin, author, target))
    task.merged_into_id = into_id
    for changed in (task, target):
        changed.version += 1
        changed.updated_at = utcnow()
        session.add(changed)
    session.flush()
    merged = events.task_payload(target, task_message_ids(session, [into_id])[into_id])
    recorded = events.record_events(
        session, [(events.TASK_UPDATED, events.task_payload(task)), (events.TASK_UPDATED, merged)]
    )
    return task, recorded + on_merge(session, task, target)


def move_message(
    session: Session,
    task_id: int,
    message_id: int,
    into_id: int | None,
    *,
    origin: LabelOrigin = LabelOrigin.api,
    author: str | None = None,
) -> Decided:
    """Split: the message leaves the task for another task, or (into_id None) a new task of
    its own; the move is a label the conversation scorer can learn from."""
    if session.get(TaskMessage, (task_id, message_id)) is None:
        raise InvalidTaskChange("message_id", f"message {message_id} is not in task {task_id}")
    if into_id == task_id:
        raise InvalidTaskChange("into_id", f"message {message_id} is already in task {task_id}")
    message = session.get(Message, message_id)
    assert message is not None  # the link's foreign key
    target, recorded = _move_target(session, message, into_id)
    for link in session.exec(select(TaskMessage).where(TaskMessage.message_id == message_id)).all():
        if link.task_id != target.id:
            session.delete(link)
    detach(session, message, keep=target)
    session.add(label(message_id, LabelAction.move, origin, author, target))
    session.flush()
    moved = [(events.TASK_UPDATED, events.task_payload(t)) for t in _touched(session, task_id, target)]
    return target, recorded + events.record_events(session, moved)


def _move_target(session: Session, message: Message, into_id: int | None) -> Decided:
    if into_id is None:
        first_line = message.text.strip().split("\n", 1)[0][:80].strip() or f"Message {message.external_id}"
        return create_task(session, TaskCreate(title=first_line, description=message.text[:16384] or None,
                                               message_ids=[message.id or 0]))  # fmt: skip
    target = session.get(Task, into_id)
    if target is None or target.merged_into_id is not None:
        raise InvalidTaskChange("into_id", f"task {into_id} does not exist or was merged")
    if session.get(TaskMessage, (into_id, message.id)) is None:  # it may be in both already
        session.add(TaskMessage(task_id=into_id, message_id=message.id or 0, role=TaskMessageRole.manual))
    return target, []


def _touched(session: Session, task_id: int, target: Task) -> list[Task]:
    source = session.get(Task, task_id)
    for task in (source, target):
        if task is not None:
            task.version += 1
            task.updated_at = utcnow()
            session.add(task)
    return [t for t in (source, target) if t is not None]


def _check_merge(task: Task, target: Task, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != task.version:
        raise TaskConflict(f"task {task.id} is at version {task.version}, not {expected_version}")
    if task.merged_into_id is not None:
        raise InvalidTaskChange("task_id", f"task {task.id} is already merged into {task.merged_into_id}")
    if target.merged_into_id is not None:
        raise InvalidTaskChange(
            "into_id", f"task {target.id} was merged into task {target.merged_into_id}; merge into that one"
        )


def _lock_pair(session: Session, task_id: int, into_id: int) -> tuple[Task, Task]:
    """Both tasks, locked in id order (two opposite merges cannot deadlock)."""
    rows = session.exec(
        select(Task).where(col(Task.id).in_([task_id, into_id])).order_by(col(Task.id)).with_for_update()
    ).all()
    found = {row.id: row for row in rows}
    if task_id not in found:
        raise TaskNotFound(task_id)
    if into_id not in found:
        raise InvalidTaskChange("into_id", f"task {into_id} does not exist")
    return found[task_id], found[into_id]


def for_each_task(
    session: Session, versions: Mapping[int, int | None], decide: Decision
) -> tuple[list[Task], list[dict[str, Any]]]:
    """One decision on several tasks in the caller's transaction: all of them or none."""
    changed: list[Task] = []
    recorded: list[dict[str, Any]] = []
    for task_id in sorted(versions):
        task, new_events = decide(session, task_id, expected_version=versions[task_id])
        changed.append(task)
        recorded.extend(new_events)
    return changed, recorded
