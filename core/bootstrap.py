"""One bootstrap for every entry point: the real database, queue and event bus, wired."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import nats
from nats.aio.client import Client as NATS
from sqlalchemy import Engine
from sqlmodel import Session
from taskiq import AsyncBroker

from core import events
from core.config import Settings
from core.db import get_engine, session_scope
from core.ingestion import Ingested, check_texts, ingest
from core.models import MessageStatus
from core.queue import enqueue_classification, events_subject, make_broker
from core.schemas import MessageIn

T = TypeVar("T")
Work = Callable[[Session], tuple[T, list[dict[str, Any]]]]


@dataclass
class Services:
    """The adapters an entry point talks to; core's use cases take them from here."""

    settings: Settings
    engine: Engine
    broker: AsyncBroker
    nats: NATS

    async def publish(self, new_events: list[dict[str, Any]]) -> None:
        await events.publish(self.nats, events_subject(self.settings), new_events)

    async def run(self, work: Work[T]) -> T:
        """Run a unit of work in a transaction, then announce the events it recorded."""

        def in_session() -> tuple[T, list[dict[str, Any]]]:
            with session_scope(self.engine) as session:
                return work(session)

        value, new_events = await asyncio.to_thread(in_session)
        await self.publish(new_events)
        return value

    async def receive(self, items: list[MessageIn]) -> list[Ingested]:
        """Store messages once each and queue the new ones for classification."""
        check_texts(items, self.settings.max_text_bytes)
        lease = self.settings.task_ack_wait
        result = await self.run(lambda session: ingest(session, items, lease_seconds=lease))
        await self.enqueue(
            [r.message.id for r in result if r.created and r.message.status == MessageStatus.pending]
        )
        return result

    async def enqueue(self, message_ids: list[int | None]) -> None:
        ids = [i for i in message_ids if i is not None]
        if ids:
            await enqueue_classification(self.broker, ids)

    async def close(self) -> None:
        await self.broker.shutdown()
        await self.nats.drain()


async def connect(settings: Settings, *, worker: bool = False) -> Services:
    """Connect to the configured PostgreSQL and NATS (both must be set on settings)."""
    if not settings.database_url or not settings.nats_url:
        raise ValueError("database_url and nats_url must be resolved before connect()")
    engine = get_engine(settings.database_url)
    broker = make_broker(settings)
    broker.is_worker_process = worker
    await broker.startup()
    nc = await nats.connect(settings.nats_url, max_reconnect_attempts=-1, name="tracker")
    return Services(settings, engine, broker, nc)
