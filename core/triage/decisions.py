"""Human decisions about one message (/track or /ignore in a chat): its task follows them,
and each one is kept as a label for training and evaluation."""

from __future__ import annotations

from sqlmodel import Session, col, select

from core.conversations.tasks import detach, surviving
from core.models import (
    ACTIONABLE_KINDS,
    Issue,
    Kind,
    LabelAction,
    LabelOrigin,
    Message,
    MessageStatus,
    Priority,
    Task,
    TaskMessage,
    TaskMessageRole,
    TaskStatus,
)
from core.schemas import TaskCreate
from core.triage.commands import Decided, change_task, create_task, reject_task
from core.triage.labels import label


class UnknownMessage(LookupError):
    pass


OWN_ROLES = (TaskMessageRole.source, TaskMessageRole.manual)
"""The links that make a task the message's own (a duplicate's task is someone else's)."""


def message_task(session: Session, message_id: int) -> Task | None:
    """The task this message opened or was linked to by hand (a merged one's survivor)."""
    task = session.exec(
        select(Task)
        .join(TaskMessage, col(TaskMessage.task_id) == Task.id)
        .where(TaskMessage.message_id == message_id, col(TaskMessage.role).in_(OWN_ROLES))
        .order_by(col(TaskMessage.role).desc())  # "source" before "manual": the task it opened wins
    ).first()
    return surviving(session, task)


def track_message(
    session: Session,
    message_id: int,
    kind: Kind | None = None,
    *,
    origin: LabelOrigin,
    author: str | None = None,
) -> Decided:
    """Make the message a task now: its task is accepted (with the kind given), or opened."""
    message = _message(session, message_id)
    task = message_task(session, message_id)
    opened: list[dict[str, object]] = []
    if task is None:
        task, opened = _open_task(session, message, kind)
    values = {"status": TaskStatus.accepted, **({"kind": kind} if kind else {})}
    task, changed = change_task(
        session, task.id or 0, values, origin=origin, author=author, action=LabelAction.track
    )
    return task, opened + changed


def ignore_message(
    session: Session, message_id: int, *, origin: LabelOrigin, author: str | None = None
) -> tuple[Task | None, list[dict[str, object]]]:
    """Mark the message noise: its task is rejected; without one, it is never classified."""
    message = _message(session, message_id)
    task = message_task(session, message_id)
    if task is not None:
        return reject_task(session, task.id or 0, origin=origin, author=author)
    session.add(label(message_id, LabelAction.ignore, origin, author))
    if message.status == MessageStatus.pending:
        message.status = MessageStatus.skipped
        message.next_attempt_at = None
        session.add(message)
    session.flush()
    return None, []


def _message(session: Session, message_id: int) -> Message:
    message = session.get(Message, message_id)
    if message is None:
        raise UnknownMessage(message_id)
    return message


def _open_task(session: Session, message: Message, kind: Kind | None) -> Decided:
    """A task from the message, shaped by its classification when it has an actionable one."""
    issue = session.exec(
        select(Issue).where(Issue.message_id == message.id, col(Issue.is_current).is_(True))
    ).first()
    guess = issue if issue is not None and issue.kind in ACTIONABLE_KINDS else None
    first_line = message.text.strip().split("\n", 1)[0][:80].strip()
    task, recorded = create_task(
        session,
        TaskCreate(
            title=(guess.title if guess and guess.title else first_line) or f"Message {message.external_id}",
            kind=kind or (guess.kind if guess and guess.kind else Kind.task),
            priority=guess.priority if guess and guess.priority else Priority.medium,
            description=message.text[:16384] or None,
            message_ids=[message.id or 0],
        ),
    )
    # The message's own task, so the classifier never opens a second one for it; it leaves
    # the conversation it was grouped into (the person split it off).
    link = session.get(TaskMessage, (task.id, message.id))
    if link is not None:
        link.role = TaskMessageRole.source
        session.add(link)
    detach(session, message, keep=task)
    task.chat_id = message.chat_id
    session.add(task)
    session.flush()
    return task, recorded
