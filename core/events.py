"""Live events: written to the `events` outbox in the effect's transaction, then
published on NATS so every API process can push them to its WebSocket clients."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from nats.aio.client import Client as NATS
from sqlalchemy import func, insert, select
from sqlmodel import Session, col

from core.models import Event

MESSAGE_CREATED = "message.created"
MESSAGE_CLASSIFIED = "message.classified"
TASK_CREATED = "task.created"
TASK_UPDATED = "task.updated"

_COLUMNS = (col(Event.seq), col(Event.type), col(Event.payload), col(Event.created_at))


def record_events(session: Session, items: Sequence[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Add events to the outbox (in the caller's transaction); returns them with their seq."""
    if not items:
        return []
    rows = session.execute(
        insert(Event).returning(*_COLUMNS),
        [{"type": kind, "payload": payload} for kind, payload in items],
    ).all()
    return [_as_dict(row) for row in rows]


def record_event(session: Session, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    return record_events(session, [(kind, payload)])[0]


def events_since(session: Session, seq: int, limit: int = 10_000) -> list[dict[str, Any]]:
    """Events after `seq`, oldest first (a reconnecting client's catch-up)."""
    rows = session.execute(
        select(*_COLUMNS).where(col(Event.seq) > seq).order_by(col(Event.seq)).limit(limit)
    ).all()
    return [_as_dict(row) for row in rows]


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
