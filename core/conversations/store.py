"""The conversations table: the open conversations a message may join, joining, opening."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, func, text
from sqlmodel import Session, col, select

from core.conversations.features import Open, name_stems
from core.conversations.text import merge
from core.models import Conversation, Message, TaskStatus, utcnow

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


_CANDIDATES = text(
    """
    SELECT c.id, c.thread_id, c.last_message_at, c.last_author_id, c.authors, c.terms,
           t.status, t.assignee, t.kind
    FROM conversations c LEFT JOIN tasks t ON t.id = c.task_id
    WHERE c.source = :source AND c.chat_id = :chat
      AND ((c.last_message_at >= :since AND c.thread_id IS NOT DISTINCT FROM :thread) OR c.id = :replied)
    ORDER BY c.last_message_at DESC
    LIMIT :limit
    """
)


def candidates(session: Session, message: Message, replied: int | None = None) -> list[Open]:
    """The chat's (forum topic's) conversations active within WINDOW before the message,
    latest first, and the conversation of the message it replies to (plain rows: placing a
    message builds no ORM object for the conversations it passes over)."""
    rows = session.execute(
        _CANDIDATES,
        {"source": message.source, "chat": message.chat_id, "since": sent_at(message) - WINDOW,
         "thread": message.thread_id, "replied": replied, "limit": CANDIDATES},
    ).all()  # fmt: skip
    return [_summary(rank, row) for rank, row in enumerate(rows)]


def _summary(rank: int, row: Row[Any]) -> Open:
    authors = row.authors or {}
    return Open(
        id=row.id, thread_id=row.thread_id, last_message_at=row.last_message_at,
        last_author_id=row.last_author_id, authors=authors, terms=row.terms or {},
        has_task=row.status in OPEN_STATUSES, assignee=row.assignee, kind=row.kind, rank=rank,
        names=name_stems(authors),
    )  # fmt: skip


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
