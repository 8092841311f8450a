"""The wired services an entry point talks to: the database, the queue and the event bus.

Get them from `core.runtime.system.open_system(...).services()`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from nats.aio.client import Client as NATS
from sqlalchemy import Engine
from sqlmodel import Session
from taskiq import AsyncBroker

from core import events
from core.config import Settings
from core.db import session_scope
from core.exports.plan import queued_ids
from core.messages.ingest import Ingested, check_texts, ingest
from core.models import MessageStatus
from core.runtime.queue import enqueue_classification, enqueue_exports, events_subject
from core.schemas import MessageCreate

T = TypeVar("T")
Work = Callable[[Session], tuple[T, list[dict[str, Any]]]]
log = logging.getLogger("tracker")
NATS_PATIENCE = 5.0
"""Seconds an already committed effect waits for NATS before going on without it."""


async def _after_commit(nc: NATS, step: Callable[[], Awaitable[None]], what: str) -> None:
    """Announce or queue something already committed; NATS being away must not undo the effect.

    Lost announcements are recovered from the outbox by the API processes; unqueued messages
    keep their lease (next_attempt_at) and the worker's sweep queues them when it expires.
    """
    try:
        if not nc.is_connected:
            raise ConnectionError("not connected")
        await asyncio.wait_for(step(), NATS_PATIENCE)
    except Exception as exc:
        log.warning("%s skipped, NATS unavailable (%s: %s)", what, type(exc).__name__, exc)


@dataclass
class Services:
    """The adapters an entry point talks to; core's use cases take them from here."""

    settings: Settings
    engine: Engine
    broker: AsyncBroker
    nats: NATS

    async def publish(self, new_events: list[dict[str, Any]]) -> None:
        """Announce committed events and queue the exports they planned (never raises: see _after_commit)."""
        if new_events:
            subject = events_subject(self.settings)
            await _after_commit(self.nats, lambda: events.publish(self.nats, subject, new_events), "publish")
        exports = queued_ids(new_events)
        if exports:
            await _after_commit(self.nats, lambda: enqueue_exports(self.broker, exports), "queueing exports")

    async def run(self, work: Work[T]) -> T:
        """Run a unit of work in a transaction, then announce the events it recorded."""

        def in_session() -> tuple[T, list[dict[str, Any]]]:
            with session_scope(self.engine) as session:
                return work(session)

        value, new_events = await asyncio.to_thread(in_session)
        await self.publish(new_events)
        return value

    async def receive(self, items: list[MessageCreate]) -> list[Ingested]:
        """Store messages once each and queue the new ones for classification."""
        check_texts(items, self.settings.max_text_bytes)
        lease = self.settings.task_ack_wait
        result = await self.run(lambda session: ingest(session, items, lease_seconds=lease))
        new = [r.message.id for r in result if r.created and r.message.status == MessageStatus.pending]
        await _after_commit(self.nats, lambda: self.enqueue(new), "queueing classification")
        return result

    async def enqueue(self, message_ids: list[int | None]) -> None:
        ids = [i for i in message_ids if i is not None]
        if ids:
            await enqueue_classification(self.broker, ids)

    async def close(self) -> None:
        await self.broker.shutdown()
        await self.nats.drain()
