"""What one API process holds: settings, the database, the queue, the event hub."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

from core.bootstrap import Services
from core.config import Settings


@dataclass
class EventHub:
    """Fans events received from NATS out to this process's WebSocket clients."""

    clients: set[asyncio.Queue[dict[str, Any]]] = field(default_factory=set)

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=100_000)
        self.clients.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self.clients.discard(queue)

    def deliver(self, events: list[dict[str, Any]]) -> None:
        for queue in list(self.clients):
            for event in events:
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait(event)


@dataclass
class AppState:
    services: Services
    hub: EventHub

    @property
    def settings(self) -> Settings:
        return self.services.settings
