"""The database a CLI command uses: one already running, or the embedded one started for it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from core.config import Settings
from core.runtime.system import NotRunning, System, open_system


@contextlib.contextmanager
def database(settings: Settings, start: bool) -> Iterator[System | None]:
    """The system without NATS (migrated when start=True); with start=False, None when no database answers."""
    try:
        system = open_system(settings, nats=False, start=start, migrate=start)
    except NotRunning:
        yield None
        return
    with system:
        yield system
