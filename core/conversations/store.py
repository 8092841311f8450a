"""The conversations table: the open conversations a message may join, joining, opening."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, text
from sqlmodel import Session, col, select

from core.conversations.features import Open, name_stems
from core.conversations.text import merge
from core.models import Conversation, Message, Task, TaskStatus, utcnow

WINDOW = timedelta(hours=72)
"""How long a quiet conversation stays open to follow-ups ("the next morning ...")."""
CANDIDATES = 20
"""The most recently active conversations of the chat a message is weighed against."""
OPEN_STATUSES = (TaskStatus.new, TaskStatus.accepted, TaskStatus.in_progress)


def lock_chats(session: Session, messages: list[Message]) -> None:
    """Serialise placement per chat for this transaction (in one order: no deadlock)."""
    for key in sorted({f"{m.source}\x1f{m.chat_id}" for m in messages}):
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": "conv\x1f" + key})


def sent_at(message: Message) -> datetime:
    return message.sent_at or message.created_at or utcnow()


def candidates(session: Session, message: Message, replied: int | None = None) -> list[Open]:
    """The chat's (forum topic's) conversations active within WINDOW before the message,
    latest first, and the conversation of the message it replies to."""
    when = sent_at(message)
    rows = session.exec(
        select(Conversation, Task.status, Task.assignee, Task.kind)
        .outerjoin(Task, col(Task.id) == Conversation.task_id)
        .where(
            Conversation.source == message.source,
            Conversation.chat_id == message.chat_id,
            or_(
                and_(
                    col(Conversation.last_message_at) >= when - WINDOW,
                    col(Conversation.thread_id).is_not_distinct_from(message.thread_id),
                ),
                col(Conversation.id) == replied,
            ),
        )
        .order_by(col(Conversation.last_message_at).desc())
        .limit(CANDIDATES)
    ).all()
    return [_summary(rank, *row) for rank, row in enumerate(rows)]


def _summary(
    rank: int, conversation: Conversation, status: str | None, assignee: str | None, kind: str | None
) -> Open:
    return Open(
        id=conversation.id or 0,
        thread_id=conversation.thread_id,
        last_message_at=conversation.last_message_at,
        last_author_id=conversation.last_author_id,
        authors=conversation.authors or {},
        terms=conversation.terms or {},
        has_task=status in OPEN_STATUSES,
        assignee=assignee,
        kind=kind,
        rank=rank,
        names=name_stems(conversation.authors or {}),
    )


def conversation_of(session: Session, message_id: int | None) -> int | None:
    """The conversation a stored message was placed in."""
    if message_id is None:
        return None
    parent = session.get(Message, message_id)
    return parent.conversation_id if parent else None


def open_conversation(session: Session, message: Message) -> Conversation:
    conversation = Conversation(
        source=message.source,
        chat_id=message.chat_id,
        thread_id=message.thread_id,
        started_at=sent_at(message),
        last_message_at=sent_at(message),
    )
    session.add(conversation)
    session.flush()
    return conversation


def join(conversation: Conversation, message: Message, terms: dict[str, int]) -> None:
    """Place the message in the conversation and fold it into the summary."""
    message.conversation_id = conversation.id
    conversation.message_count += 1
    conversation.last_message_at = max(conversation.last_message_at, sent_at(message))
    conversation.last_author_id = message.author_id
    if message.author_id:
        conversation.authors = {**(conversation.authors or {}), message.author_id: message.author or ""}
    conversation.terms = merge(conversation.terms or {}, terms)


def messages_of(session: Session, conversation_id: int) -> list[Message]:
    return list(
        session.exec(
            select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(func.coalesce(Message.sent_at, Message.created_at), col(Message.id))
        )
    )
