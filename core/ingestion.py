"""Ingestion: every message is stored once (idempotent on source + chat + external id)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, select

from core import events
from core.models import Message, MessageStatus, utcnow
from core.schemas import MessageIn


class InvalidMessage(ValueError):
    """A message the system refuses; `field` names the offending field."""

    def __init__(self, field: str, reason: str, index: int = 0) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.index = index


@dataclass
class Ingested:
    message: Message
    created: bool


def check_texts(items: list[MessageIn], max_bytes: int) -> None:
    """Refuse the whole batch when one text is over the configured limit."""
    for index, item in enumerate(items):
        if len(item.text.encode("utf-8", "surrogatepass")) > max_bytes:
            raise InvalidMessage("text", f"longer than {max_bytes} bytes", index)


def _row(item: MessageIn, lease_until: datetime) -> dict[str, Any]:
    row = item.model_dump(exclude={"classify"})
    row["status"] = MessageStatus.pending if item.classify else MessageStatus.skipped
    row["next_attempt_at"] = lease_until if item.classify else None
    return row


def ingest(
    session: Session, items: list[MessageIn], *, lease_seconds: float = 120.0
) -> tuple[list[Ingested], list[dict[str, Any]]]:
    """Store new messages (skipping known ones), link replies, record message.created.

    Returns one entry per input, in order, and the recorded events; the caller commits,
    then publishes the events and enqueues classification of the created messages.
    """
    lease_until = utcnow() + timedelta(seconds=lease_seconds)
    unique = {(i.source, i.chat_id, i.external_id): i for i in items}
    inserted_ids = set(
        session.execute(
            insert(Message)
            .values([_row(i, lease_until) for i in unique.values()])
            .on_conflict_do_nothing(constraint="uq_messages_source_chat_ext")
            .returning(col(Message.id))
        ).scalars()
    )
    key = tuple_(col(Message.source), col(Message.chat_id), col(Message.external_id))
    if inserted_ids:
        _link_replies(session, sorted(inserted_ids))
    stored = session.exec(select(Message).where(key.in_(list(unique)))).all()
    by_key = {(m.source, m.chat_id, m.external_id): m for m in stored}
    seen: set[int] = set()
    result = []
    for item in items:
        message = by_key[(item.source, item.chat_id, item.external_id)]
        created = message.id in inserted_ids and message.id not in seen
        seen.add(message.id or 0)
        result.append(Ingested(message, created))
    recorded = events.record_events(
        session,
        [(events.MESSAGE_CREATED, message_payload(r.message)) for r in result if r.created],
    )
    return result, recorded


def _link_replies(session: Session, ids: list[int]) -> None:
    """Point new replies at stored parents, and stored replies at new parents."""
    session.execute(
        text(
            """
            UPDATE messages c SET reply_to_id = p.id FROM messages p
            WHERE c.reply_to_id IS NULL AND c.reply_to_external_id IS NOT NULL
              AND p.source = c.source AND p.chat_id = c.chat_id
              AND p.external_id = c.reply_to_external_id
              AND (c.id = ANY(:ids) OR p.id = ANY(:ids))
            """
        ),
        {"ids": ids},
    )
    session.expire_all()


def apply_edit(
    session: Session, source: str, chat_id: str, external_id: str, new_text: str,
    edited_at: datetime | None = None,
) -> Message | None:  # fmt: skip
    """Update an edited message's text; bumps its revision so it is classified again."""
    message = session.exec(
        select(Message)
        .where(Message.source == source, Message.chat_id == chat_id)
        .where(Message.external_id == external_id)
        .with_for_update()
    ).first()
    if message is None or message.text == new_text:
        return message
    message.text = new_text
    message.edited_at = edited_at or utcnow()
    message.revision += 1
    if message.status != MessageStatus.skipped:
        message.status = MessageStatus.pending
        message.attempts = 0
        message.next_attempt_at = utcnow() + timedelta(seconds=120)
    session.add(message)
    session.flush()
    return message


def message_payload(message: Message) -> dict[str, Any]:
    """The event payload describing a message."""
    return {
        "id": message.id,
        "source": message.source,
        "chat_id": message.chat_id,
        "external_id": message.external_id,
        "author": message.author,
        "text": message.text[:500],
        "status": message.status,
        "sent_at": message.sent_at.isoformat() if message.sent_at else None,
    }
