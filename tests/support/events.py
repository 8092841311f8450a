"""A WebSocket client of a real API process that collects every event in a thread."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from websockets.sync.client import ClientConnection, connect

from tests.support.api import AUTH


@dataclass
class Listener:
    """Every event /ws sends, with the monotonic time it arrived."""

    socket: ClientConnection
    events: list[dict[str, Any]] = field(default_factory=list)
    arrived: dict[tuple[str, int], float] = field(default_factory=dict)

    def run(self) -> None:
        for raw in self.socket:
            event = json.loads(raw)
            self.events.append(event)
            payload = event.get("payload", {})
            key = payload.get("message_id", payload.get("id"))
            if key is not None:
                self.arrived.setdefault((event["type"], int(key)), time.monotonic())

    def ids(self, kind: str, key: str = "id") -> set[int]:
        return {int(e["payload"][key]) for e in list(self.events) if e["type"] == kind}


@contextmanager
def listening(api_url: str) -> Iterator[Listener]:
    """A Listener on the API's /ws for the block's duration."""
    ws_url = api_url.replace("http://", "ws://") + "/ws"
    with connect(ws_url, additional_headers=AUTH, open_timeout=30) as socket:
        listener = Listener(socket)
        threading.Thread(target=listener.run, daemon=True).start()
        yield listener
