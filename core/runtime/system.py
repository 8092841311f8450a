"""The one way in: every entry point opens the system here and gets the servers in use,
the engine and the wired services (API, worker, bot, CLI, dashboard, notebooks, benchmarks)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import TracebackType

import nats as nats_client
from sqlalchemy import Engine, create_engine

from core.config import Settings
from core.db import Session, make_engine, ping, session_scope, sqlalchemy_url
from core.db import migrate as migrate_schema
from core.runtime.bootstrap import Services
from core.runtime.embedded import NotRunning, Servers, start_servers
from core.runtime.queue import make_broker

__all__ = ["NotRunning", "System", "open_system"]

CONNECT_TIMEOUT = 5
"""Seconds a probe waits for a database that may not be there (instead of hanging)."""


@dataclass
class System:
    """The servers in use, the settings that point at them, and the engine (disposed at close)."""

    settings: Settings
    engine: Engine
    servers: Servers

    def session(self) -> AbstractContextManager[Session]:
        """A transaction on the system's database: commits on success, rolls back on error."""
        return session_scope(self.engine)

    async def services(self, *, worker: bool = False) -> Services:
        """The wired adapters (broker and NATS connection) on this engine; the caller closes them."""
        if not self.settings.nats_url:
            raise ValueError("the system was opened with nats=False")
        broker = make_broker(self.settings)
        broker.is_worker_process = worker
        await broker.startup()
        nc = await nats_client.connect(
            servers=self.settings.nats_servers, max_reconnect_attempts=-1, name="tracker"
        )
        return Services(self.settings, self.engine, broker, nc)

    def close(self) -> None:
        """Dispose of the engine; stop the embedded servers this process started."""
        self.engine.dispose()
        self.servers.stop()

    def __enter__(self) -> System:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def open_system(settings: Settings, *, nats: bool = True, start: bool = True, migrate: bool = True) -> System:
    """Use the configured servers, else join the data dir's running embedded ones, else
    (start=True) start them; migrate the database; close the result (or use it in `with`).

    With start=False nothing is started, and NotRunning says when no database answers.
    """
    running = start_servers(settings, with_nats=nats, start=start)
    try:
        if not start:
            _check_reachable(running.database_url)
        if migrate:
            migrate_schema(running.database_url)
        resolved = settings.model_copy(
            update={"database_url": running.database_url, "nats_url": running.nats_url or None}
        )
        return System(resolved, make_engine(running.database_url), running)
    except BaseException:
        running.stop()
        raise


def _check_reachable(url: str) -> None:
    """Fail within seconds (instead of hanging) when the database does not answer."""
    engine = create_engine(sqlalchemy_url(url), connect_args={"connect_timeout": CONNECT_TIMEOUT})
    try:
        ping(engine)
    except Exception as exc:
        why = f"{type(exc).__name__}: {str(exc).strip()[:300]}"
        raise NotRunning(f"the database does not answer ({why})") from exc
    finally:
        engine.dispose()
