"""Services for synchronous entry points (the Streamlit dashboard, notebooks, scripts).

The async `Services` run on a private event loop in a daemon thread; each call blocks
until its unit of work has committed and its events are published on NATS.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from sqlalchemy import Engine

from core.config import Settings
from core.runtime.bootstrap import Services, Work
from core.runtime.system import System

T = TypeVar("T")


class BlockingServices:
    """A blocking facade over `Services`: `run(work)` as in async code, minus the await."""

    def __init__(self, system: System, timeout: float = 60.0) -> None:
        self._timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tracker-services", daemon=True)
        self._thread.start()
        try:
            self.services: Services = self._call(system.services())
        except BaseException:
            self._stop_loop()
            raise

    @property
    def engine(self) -> Engine:
        return self.services.engine

    @property
    def settings(self) -> Settings:
        return self.services.settings

    def run(self, work: Work[T]) -> T:
        """Run a unit of work in a transaction, then publish the events it recorded."""
        return self._call(self.services.run(work))

    def close(self) -> None:
        """Drain the NATS connection and stop the loop thread (the system stays open)."""
        try:
            self._call(self.services.close())
        finally:
            self._stop_loop()

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(self._timeout)

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
