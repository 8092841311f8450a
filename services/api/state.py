"""What one API process holds: settings, the database, the queue, the event hub."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from core.config import Settings
from core.runtime.bootstrap import Services
from core.slack.users import SlackUsers

Event = dict[str, Any]
Fetch = Callable[[int], Awaitable[list[Event]]]
"""Committed events after a seq, oldest first, one page of at most PAGE."""
Latest = Callable[[], Awaitable[int]]
"""The newest committed seq."""
PAGE = 1000
LAGGING: Event = {"type": "_lagging"}
"""Put in a client's queue instead of the events it had no room for: it must reconnect."""
CLOSED: Event = {"type": "_closed"}
"""Put in a client's queue when the client has gone."""


@dataclass
class EventHub:
    """Hands every event to this process's WebSocket clients once, in seq order, no gaps.

    NATS brings events quickly, but from several publishers in any order, and may lose
    some. The outbox table is the truth (seq order is commit order, see core.events):
    whatever does not continue the last delivered seq makes the hub read the table first.
    """

    fetch: Fetch
    latest: Latest
    last: int | None = None
    """The last seq handed to clients; None until the database has been asked."""
    client_queue_size: int = 100_000
    clients: set[asyncio.Queue[Event]] = field(default_factory=set)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def subscribe(self) -> asyncio.Queue[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=self.client_queue_size)
        self.clients.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Event]) -> None:
        self.clients.discard(queue)

    async def receive(self, events: list[Event]) -> None:
        """Events announced on NATS (committed, possibly out of order or duplicated)."""
        async with self._lock:
            last = await self._start()
            fresh = sorted((e for e in events if e["seq"] > last), key=lambda e: int(e["seq"]))
            seqs = [e["seq"] for e in fresh]
            if seqs and seqs == list(range(last + 1, last + 1 + len(seqs))):
                self._deliver(fresh)
            elif seqs:
                await self._catch_up()

    async def catch_up(self) -> None:
        """Deliver whatever the table holds beyond the last delivered seq."""
        async with self._lock:
            await self._catch_up()

    async def _start(self) -> int:
        """The last delivered seq; at first, the newest one stored (clients get what follows)."""
        if self.last is None:
            self.last = await self.latest()
        return self.last

    async def _catch_up(self) -> None:
        while page := await self.fetch(await self._start()):
            self._deliver(page)
            if len(page) < PAGE:
                return

    def _deliver(self, events: list[Event]) -> None:
        for queue in list(self.clients):
            for event in events:
                try:
                    queue.put_nowait(event)
                except asyncio.QueueFull:
                    self.unsubscribe(queue)
                    _mark_lagging(queue)
                    break
        self.last = int(events[-1]["seq"])

    async def poll(self, interval: float) -> None:
        """Catch up now and then: recovers publishes NATS lost or never got."""
        while True:
            await asyncio.sleep(interval)
            with contextlib.suppress(Exception):
                await self.catch_up()


def _mark_lagging(queue: asyncio.Queue[Event]) -> None:
    """Replace a full queue's content by LAGGING: the client resumes with ?since=."""
    while not queue.empty():
        queue.get_nowait()
    queue.put_nowait(LAGGING)


@dataclass
class AppState:
    services: Services
    hub: EventHub
    slack_users: SlackUsers | None = None
    """Slack authors' names (users.info) when TRACKER_SLACK_BOT_TOKEN is set."""

    @property
    def settings(self) -> Settings:
        return self.services.settings
