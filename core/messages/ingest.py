"""Ingestion: every message is stored once (idempotent on source + chat + external id)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, any_, bindparam, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session, col, select

from core import events
from core.models import Message, MessageBase, MessageStatus, utcnow
from core.schemas import MessageCreate


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


def check_texts(items: list[MessageCreate], max_bytes: int) -> None:
    """Refuse the whole batch when one text is over the configured limit."""
    for index, item in enumerate(items):
        if len(item.text.encode("utf-8", "surrogatepass")) > max_bytes:
            raise InvalidMessage("text", f"longer than {max_bytes} bytes", index)


@dataclass(frozen=True)
class Stored:
    """Where one input message is in the database, without loading the row."""

    id: int
    created: bool
    status: MessageStatus


def column_type(name: str) -> str:
    """A messages column's SQL type without its length (a cast to varchar(n) would cut, not refuse)."""
    column = Message.__table__.c[name]  # type: ignore[attr-defined]
    return re.sub(r"\(\d+\)", "", column.type.compile(dialect=postgresql.dialect()))


COLUMN_TYPES = {name: column_type(name) for name in (*MessageBase.model_fields, "status", "next_attempt_at")}
"""The messages columns an insert sets, with their SQL types: a channel's fields, then the queue's."""
_NAMES = ", ".join(COLUMN_TYPES)
_ARRAYS = ", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in COLUMN_TYPES.items())
# One short statement with one array per column: cheap to send and to plan, whatever the batch size.
_INSERT = text(
    f"""
    INSERT INTO messages ({_NAMES}, revision, attempts, created_at)
    SELECT {_NAMES}, 1, 0, :now FROM unnest({_ARRAYS}) AS t({_NAMES})
    ON CONFLICT ON CONSTRAINT uq_messages_source_chat_ext DO NOTHING
    RETURNING id, source, chat_id, external_id, status
    """
)
_EXISTING = text(
    """
    SELECT m.id, m.source, m.chat_id, m.external_id, m.status
    FROM unnest(CAST(:source AS varchar[]), CAST(:chat_id AS varchar[]), CAST(:external_id AS varchar[]))
         AS k(source, chat_id, external_id)
    JOIN messages m USING (source, chat_id, external_id)
    """
)
# Both are driven by the new ids, one index lookup per row (LATERAL ... LIMIT 1 keeps the
# planner from switching to whole-table joins while a bulk import outgrows its statistics).
_LINK_NEW_REPLIES = text(
    """
    UPDATE messages m SET reply_to_id = link.parent
    FROM unnest(CAST(:ids AS bigint[])) AS n(id)
    CROSS JOIN LATERAL (
        SELECT p.id AS parent FROM messages c
        JOIN messages p ON p.source = c.source AND p.chat_id = c.chat_id
                       AND p.external_id = c.reply_to_external_id
        WHERE c.id = n.id AND c.reply_to_id IS NULL
        LIMIT 1) AS link
    WHERE m.id = n.id
    """
)
_LINK_WAITING_REPLIES = text(
    """
    UPDATE messages m SET reply_to_id = n.id
    FROM unnest(CAST(:ids AS bigint[])) AS n(id)
    CROSS JOIN LATERAL (
        SELECT c.id AS child FROM messages p
        JOIN messages c ON c.source = p.source AND c.chat_id = p.chat_id
                       AND c.reply_to_external_id = p.external_id
        WHERE p.id = n.id AND c.reply_to_id IS NULL
        OFFSET 0) AS link
    WHERE m.id = link.child
    """
)

_STALE_STATISTICS = text(
    """
    SELECT pg_relation_size(oid) / current_setting('block_size')::int > relpages * :growth + 8
    FROM pg_class WHERE oid = 'messages'::regclass
    """
)

_ANALYZE = text("ANALYZE messages (source, chat_id, external_id, reply_to_external_id, reply_to_id)")

Key = tuple[str, str, str]


STATISTICS_BATCH = 100
"""Smaller inserts leave the statistics to autovacuum: their lookups stay cheap anyway."""


def refresh_statistics(session: Session, growth: float = 1.25) -> None:
    """ANALYZE messages once it has grown `growth` times since its statistics were taken
    (or has none, once it holds a few pages).

    Autovacuum analyzes a table about a minute after it changed; until then, during a
    bulk import or a burst of batches, the planner takes a large table for a small one
    and turns the reply-linking lookups into scans of the whole table (seconds per batch).
    Runs inside the caller's transaction, so it also sees the rows just inserted.
    """
    if session.execute(_STALE_STATISTICS, {"growth": growth}).scalar_one():
        session.execute(_ANALYZE)


def _columns(items: list[MessageCreate], lease_until: datetime) -> dict[str, Any]:
    """The rows to insert as one list per column."""
    columns: dict[str, Any] = {name: [getattr(i, name, None) for i in items] for name in COLUMN_TYPES}
    columns["status"] = [MessageStatus.pending if i.classify else MessageStatus.skipped for i in items]
    columns["next_attempt_at"] = [lease_until if i.classify else None for i in items]
    columns["now"] = utcnow()
    return columns


def store(
    session: Session, items: list[MessageCreate], *, lease_seconds: float = 120.0
) -> tuple[list[Stored], list[dict[str, Any]]]:
    """Store new messages (skipping known ones), link replies, record message.created.

    The fast path under `ingest` (bulk imports use it directly): returns one entry per
    input, in order, and the recorded events, without loading the stored rows.
    """
    if not items:
        return [], []
    lease_until = utcnow() + timedelta(seconds=lease_seconds)
    unique = {(i.source, i.chat_id, i.external_id): i for i in items}
    inserted = {(r.source, r.chat_id, r.external_id): r for r in session.execute(
        _INSERT, _columns(list(unique.values()), lease_until)
    )}  # fmt: skip
    if inserted:
        if len(inserted) >= STATISTICS_BATCH:
            refresh_statistics(session)
        replies = [r.id for key, r in inserted.items() if unique[key].reply_to_external_id]
        if replies:
            session.execute(_LINK_NEW_REPLIES, {"ids": sorted(replies)})
        session.execute(_LINK_WAITING_REPLIES, {"ids": sorted(r.id for r in inserted.values())})
    found = {**_existing(session, [k for k in unique if k not in inserted]), **inserted}
    result, payloads, seen = [], [], set()
    for key in ((i.source, i.chat_id, i.external_id) for i in items):
        row = found[key]
        created = key in inserted and key not in seen
        seen.add(key)
        result.append(Stored(row.id, created, MessageStatus(row.status)))
        if created:
            payloads.append((events.MESSAGE_CREATED, _payload(row.id, unique[key], row.status)))
    return result, events.record_events(session, payloads)


def _existing(session: Session, keys: list[Key]) -> dict[Key, Any]:
    if not keys:
        return {}
    source, chat_id, external_id = (list(part) for part in zip(*keys, strict=True))
    rows = session.execute(_EXISTING, {"source": source, "chat_id": chat_id, "external_id": external_id})
    return {(r.source, r.chat_id, r.external_id): r for r in rows}


def ingest(
    session: Session, items: list[MessageCreate], *, lease_seconds: float = 120.0
) -> tuple[list[Ingested], list[dict[str, Any]]]:
    """Store new messages (skipping known ones), link replies, record message.created.

    Returns one entry per input, in order, with its stored row, and the recorded events;
    the caller commits, then publishes the events and enqueues the created messages.
    """
    stored, recorded = store(session, items, lease_seconds=lease_seconds)
    ids = sorted({s.id for s in stored})
    rows = session.exec(
        select(Message)
        .where(col(Message.id) == any_(bindparam("ids", ids, type_=ARRAY(BigInteger))))
        .execution_options(populate_existing=True)
    ).all()
    by_id = {m.id: m for m in rows}
    return [Ingested(by_id[s.id], s.created) for s in stored], recorded


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


def _payload(message_id: int | None, message: Message | MessageCreate, status: str) -> dict[str, Any]:
    return {
        "id": message_id,
        "source": message.source,
        "chat_id": message.chat_id,
        "external_id": message.external_id,
        "author": message.author,
        "text": message.text[:500],
        "status": status,
        "sent_at": message.sent_at.isoformat() if message.sent_at else None,
    }
