"""Live events: written to the `events` outbox in the effect's transaction, then
published on NATS so every API process can push them to its WebSocket clients.

Events get their `seq` at commit, under one transaction-level lock, so seq order is commit
order: once event N is visible, every event below N is visible too (or was rolled back).
That lets a reader that saw a gap fill it from the table and never skip a late commit.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from nats.aio.client import Client as NATS
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, col

from core.db import Session as ProjectSession
from core.models import Event, Task, utcnow

MESSAGE_CREATED = "message.created"
MESSAGES_IMPORTED = "messages.imported"
"""One event per stored batch of a history import (count, chat ids, id range), not one a message."""
MESSAGE_CLASSIFIED = "message.classified"
MESSAGE_DELETED = "message.deleted"
"""A channel deleted a message: it is kept, marked with deleted_at."""
TASK_CREATED = "task.created"
TASK_UPDATED = "task.updated"

_COLUMNS = (col(Event.seq), col(Event.type), col(Event.payload), col(Event.created_at))


# The whole batch travels as one JSON array: one short statement, one C-speed encode.
# Takes the seq lock first (no row can reach nextval() before the lock's one row exists),
# then numbers the batch in order: one round trip.
_INSERT_EVENTS = text(
    """
    WITH seq_lock AS MATERIALIZED (SELECT pg_advisory_xact_lock(:lock))
    INSERT INTO events (type, payload, created_at)
    SELECT e ->> 'type', e -> 'payload', :now
    FROM seq_lock, jsonb_array_elements(CAST(:batch AS jsonb)) WITH ORDINALITY AS t(e, n)
    ORDER BY n
    RETURNING seq, type, payload, created_at
    """
)


_OUTBOX = "tracker.outbox"
_SEQ_LOCK = 7_472_616_301
"""pg_advisory_xact_lock key held from writing the events to the commit."""


def record_events(session: Session, items: Sequence[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Add events to the caller's transaction; they are written when it commits.

    Returns the events; their `seq` and `created_at` are filled in by the commit, so
    publish them after it. A rollback drops them.
    """
    recorded = [{"type": kind, "payload": payload} for kind, payload in items]
    session.info.setdefault(_OUTBOX, []).extend(recorded)
    return recorded


def record_event(session: Session, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    return record_events(session, [(kind, payload)])[0]


@event.listens_for(ProjectSession, "before_commit")
def _write_outbox(session: ProjectSession) -> None:
    """Number and store the transaction's events last, in commit order (see module doc)."""
    pending = session.info.pop(_OUTBOX, None)
    if not pending:
        return
    batch = json.dumps(pending, default=str)
    rows = session.execute(_INSERT_EVENTS, {"lock": _SEQ_LOCK, "batch": batch, "now": utcnow()}).all()
    for recorded, row in zip(pending, sorted(rows, key=lambda row: row.seq), strict=True):
        recorded.update(_as_dict(row))


@event.listens_for(ProjectSession, "after_transaction_end")
def _drop_outbox(session: ProjectSession, transaction: SessionTransaction) -> None:
    """A transaction that ended without a commit (rollback, close) takes its events along."""
    if transaction.parent is None:
        session.info.pop(_OUTBOX, None)


def events_since(session: Session, seq: int, limit: int = 10_000) -> list[dict[str, Any]]:
    """Events after `seq`, oldest first (a reconnecting client's catch-up)."""
    rows = session.execute(
        select(*_COLUMNS).where(col(Event.seq) > seq).order_by(col(Event.seq)).limit(limit)
    ).all()
    return [_as_dict(row) for row in rows]


def last_seq(session: Session) -> int:
    """The newest committed seq (0 when there is none)."""
    return int(session.execute(select(func.coalesce(func.max(Event.seq), 0))).scalar_one())


def latest_seq(session: Session, types: Sequence[str]) -> int:
    """The newest seq among events of these types (0 when none): a cheap "anything new?" probe."""
    newest = [
        select(func.max(Event.seq)).where(Event.type == kind).scalar_subquery()  # type: ignore[arg-type]
        for kind in types
    ]
    return int(session.execute(select(func.coalesce(func.greatest(*newest), 0))).scalar_one())


def _as_dict(row: Any) -> dict[str, Any]:
    return {
        "type": row.type,
        "seq": row.seq,
        "payload": row.payload,
        "created_at": row.created_at.isoformat(),
    }


async def publish(nc: NATS, subject: str, events: Sequence[dict[str, Any]]) -> None:
    """Announce committed events; a lost publish is recovered by ?since= catch-up."""
    if not events:
        return
    for start in range(0, len(events), 500):
        chunk = events[start : start + 500]
        await nc.publish(subject, json.dumps(chunk, default=str).encode())
    await nc.flush()


def decode(data: bytes) -> list[dict[str, Any]]:
    return list(json.loads(data))


def task_payload(task: Task | None, message_ids: list[int] | None = None) -> dict[str, Any]:
    """The event payload describing a task."""
    if task is None:
        return {}
    data = task.model_dump(mode="json", exclude={"priority_rank", "description"}, warnings=False)
    if message_ids is not None:
        data["message_ids"] = message_ids
    return data
