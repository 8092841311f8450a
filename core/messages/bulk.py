"""Bulk storage for history imports: thousands of messages per statement, idempotent.

The live path (`core.messages.ingest.store`) records one `message.created` event per message and
links replies in separate statements. A history import instead copies a batch into a
temporary table (COPY), then inserts it with one statement that also resolves each reply's
parent (stored earlier, or in the same batch) and its forum topic, so no row is written
twice; the batch is announced with one `messages.imported` event.

Known messages are skipped (ON CONFLICT on source + chat + external id), so a re-run adds
only what is missing. Ids are drawn from the table's sequence before the insert, which is
what lets a reply point at a parent inserted by the same statement.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeAlias

from sqlalchemy import text
from sqlmodel import Session

from core import events
from core.db import driver
from core.messages.ingest import COLUMN_TYPES, column_type, refresh_statistics
from core.messages.threads import inherit_threads
from core.models import MessageBase, utcnow

STAGED_COLUMNS = (*MessageBase.model_fields, "edited_at", "classify")
"""A staged row's fields, in the staging table's order: a channel's message columns (from the
table), when it was last edited, and whether to classify it (False for service messages, empty
texts)."""

# Built from the table at import, so a type checker cannot see its fields: to it a row is Any.
# A plain tuple keeps COPY fast (no per-row validation: an export is parsed by its reader).
if TYPE_CHECKING:
    BulkRow: TypeAlias = Any
else:
    BulkRow = namedtuple("BulkRow", STAGED_COLUMNS)


@dataclass
class BulkStored:
    """What one batch did: how many rows were new, and which of them wait for classification."""

    created: int = 0
    existing: int = 0
    pending: list[int] = field(default_factory=list)


_COLUMNS = ", ".join(STAGED_COLUMNS)
_STAGED_TYPES = {**COLUMN_TYPES, "edited_at": column_type("edited_at"), "classify": "boolean"}
_STAGING = text(
    "CREATE TEMPORARY TABLE IF NOT EXISTS bulk_messages ("
    + ", ".join(f"{name} {_STAGED_TYPES[name]}" for name in STAGED_COLUMNS)
    + ", id bigint DEFAULT nextval('messages_id_seq')) ON COMMIT DELETE ROWS"
)
_COPY = f"COPY bulk_messages ({_COLUMNS}) FROM STDIN (FORMAT BINARY)"
_COPY_TYPES = [_STAGED_TYPES[name].lower() for name in STAGED_COLUMNS]
"""Binary COPY: no dates formatted as text by the client and parsed again by the server
(about half the client's CPU time a row, and some of the server's)."""
_PLAIN = ", ".join(c for c in STAGED_COLUMNS if c not in {"thread_id", "thread_title", "classify"})
# One statement a batch. Each staged row drew its id as it was copied; `linked` finds each
# reply's parent: stored before (p, one unique-index lookup) or in this batch (q), and a reply
# takes its parent's topic. The sort makes every lookup run before the first row is inserted,
# so a lookup never walks rows this statement is adding. `waiting` links replies stored
# before their parent (an earlier partial import, the bot): the partial index
# ix_messages_reply_waiting holds only those. The answer is one row: counts and id arrays.
_INSERT = text(
    f"""
    WITH linked AS (
        SELECT b.*, coalesce(p.id, q.id) AS parent_id,
               CASE WHEN b.thread_id IS NOT NULL THEN b.thread_id
                    WHEN p.id IS NOT NULL THEN p.thread_id ELSE q.thread_id END AS topic_id,
               CASE WHEN b.thread_id IS NOT NULL THEN b.thread_title
                    WHEN p.id IS NOT NULL THEN p.thread_title ELSE q.thread_title END AS topic_title
        FROM bulk_messages b
        LEFT JOIN LATERAL (
            SELECT m.id, m.thread_id, m.thread_title FROM messages m
            WHERE m.source = b.source AND m.chat_id = b.chat_id AND m.external_id = b.reply_to_external_id
            LIMIT 1
        ) p ON true
        LEFT JOIN bulk_messages q
          ON q.source = b.source AND q.chat_id = b.chat_id AND q.external_id = b.reply_to_external_id
        ORDER BY b.id
    ), inserted AS (
        INSERT INTO messages (id, {_PLAIN}, reply_to_id, thread_id, thread_title,
                              status, next_attempt_at, revision, attempts, created_at)
        SELECT id, {_PLAIN}, parent_id, topic_id, topic_title,
               CASE WHEN classify THEN 'pending' ELSE 'skipped' END,
               CASE WHEN classify THEN CAST(:lease_until AS timestamptz) END, 1, 0, CAST(:now AS timestamptz)
        FROM linked
        ON CONFLICT ON CONSTRAINT uq_messages_source_chat_ext DO NOTHING
        RETURNING id, source, chat_id, external_id, status, reply_to_id, thread_id
    ), waiting AS (
        UPDATE messages c SET reply_to_id = i.id
        FROM inserted i
        WHERE c.reply_to_id IS NULL AND c.reply_to_external_id IS NOT NULL
          AND c.source = i.source AND c.chat_id = i.chat_id AND c.reply_to_external_id = i.external_id
        RETURNING c.id
    )
    SELECT count(*) AS created, min(id) AS first_id, max(id) AS last_id,
           coalesce(array_agg(id ORDER BY id) FILTER (WHERE status = 'pending'), '{{}}') AS pending,
           coalesce(array_agg(DISTINCT chat_id), '{{}}') AS chat_ids,
           CASE WHEN bool_or(thread_id IS NOT NULL)
                THEN array_agg(id ORDER BY id) FILTER (WHERE reply_to_id IS NOT NULL AND thread_id IS NULL)
           END AS topic_replies,
           (SELECT array_agg(id ORDER BY id) FROM waiting) AS linked
    FROM inserted
    """
)
_BULK_SETTINGS = text(
    "SELECT set_config('synchronous_commit', 'off', true),"
    " set_config('gin_pending_list_limit', '65536', true),"  # kB: the text index sorts bulk rows in later
    " set_config('enable_mergejoin', 'off', true)"  # a batch's replies meet their parents in a hash table
)


def unique_rows(rows: list[BulkRow]) -> list[BulkRow]:
    """One row per message (the last one read wins), in order."""
    return list({(r.source, r.chat_id, r.external_id): r for r in rows}.values())


def stage(session: Session, rows: list[BulkRow]) -> int:
    """Copy a batch into this transaction's staging table, drawing the new rows' ids.

    The first half of storing a batch, in the caller's transaction; `insert_staged` is the
    second. Staging does not look at the messages table, so it may run while the previous
    batch's transaction is still inserting. Returns how many rows were given.
    """
    session.execute(_BULK_SETTINGS)
    session.execute(_STAGING)
    with driver(session).cursor() as cursor, cursor.copy(_COPY) as copy:
        copy.set_types(_COPY_TYPES)
        for row in unique_rows(rows):
            copy.write_row(row)
    return len(rows)


def insert_staged(
    session: Session, given: int, *, lease_seconds: float = 120.0
) -> tuple[BulkStored, list[dict[str, Any]]]:
    """Insert the staged batch (known messages skipped); returns what it did and the
    recorded event, which the caller publishes after the commit.

    Replies find parents stored by transactions committed before this statement: a
    caller running batches side by side stages the next while this one inserts, and
    lets it insert once this one has committed. New messages to classify get a lease of
    `lease_seconds`: the caller queues them after the commit, and the worker's sweep
    queues them when the lease ends if that never happened. Committing with
    synchronous_commit off, a crash loses at most the last batches, which a re-run adds.
    """
    # Fourfold growth is enough here: once the planner has seen that a chat holds many
    # messages, it looks parents up by the unique key instead of walking the chat.
    refresh_statistics(session, growth=4)
    now = utcnow()
    batch = session.execute(
        _INSERT, {"now": now, "lease_until": now + timedelta(seconds=lease_seconds)}
    ).one()
    if batch.topic_replies:  # replies to replies inside a forum topic, stored together
        inherit_threads(session, batch.topic_replies)
    if batch.linked:
        inherit_threads(session, batch.linked)
    result = BulkStored(created=batch.created, existing=given - batch.created, pending=batch.pending)
    if not batch.created:
        return result, []
    summary = {
        "count": batch.created,
        "chat_ids": batch.chat_ids,
        "first_id": batch.first_id,
        "last_id": batch.last_id,
        "pending": len(batch.pending),
    }
    return result, events.record_events(session, [(events.MESSAGES_IMPORTED, summary)])
