"""Supervision: `tracker up` keeps its parts running until it is told to stop.

A part is a child process (API, worker, dashboard, bot) or an embedded server that this
process started (PostgreSQL, NATS). One that ends unexpectedly is started again after a
backoff that doubles with each exit in the restart window; one that ends `limit` times
within the window stops the system with a message naming it and its last error.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from core.config import Settings
from core.runtime.embedded import EmbeddedNats, EmbeddedPostgres, Servers

Say = Callable[[str], None]
STDERR_LINES = 15
"""Lines of a part's stderr kept to name its last error."""
STOP_SECONDS = 10.0
"""How long a child may take to stop after SIGTERM before it is killed."""


class Part(Protocol):
    """Something supervised: started, watched until it ends, asked for its last error."""

    name: str

    async def start(self) -> None: ...

    async def ended(self) -> str:
        """Wait until the part is no longer running; say how it ended."""
        ...

    def last_error(self) -> list[str]: ...


class GaveUp(Exception):
    """A part kept ending: the system stops; the message names the part and its last error."""


@dataclass(frozen=True)
class RestartPolicy:
    """How often and how soon a part that ended is started again."""

    limit: int = 5
    window: float = 60.0
    backoff: float = 0.5
    backoff_max: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RestartPolicy:
        return cls(
            settings.restart_limit,
            settings.restart_window,
            settings.restart_backoff,
            settings.restart_backoff_max,
        )

    def delay(self, recent_exits: int) -> float:
        """Seconds to wait before a restart, after `recent_exits` exits within the window."""
        return min(self.backoff * 2 ** max(recent_exits - 1, 0), self.backoff_max)


@dataclass
class ChildProcess:
    """A command run as a child; its stderr goes on to ours, prefixed with its name."""

    name: str
    command: list[str]
    env: dict[str, str]
    process: asyncio.subprocess.Process | None = None
    stderr: deque[str] = field(default_factory=lambda: deque(maxlen=STDERR_LINES))
    _relay: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.stderr.clear()
        self.process = await asyncio.create_subprocess_exec(
            *self.command, env=self.env, stderr=asyncio.subprocess.PIPE, limit=1 << 20
        )
        assert self.process.stderr is not None
        self._relay = asyncio.create_task(self._relay_stderr(self.process.stderr))

    async def ended(self) -> str:
        assert self.process is not None and self._relay is not None
        code = await self.process.wait()
        # A grandchild may hold the pipe open: take what came, without waiting for it.
        await asyncio.wait([self._relay], timeout=1.0)
        return _exit_status(code)

    def last_error(self) -> list[str]:
        return list(self.stderr)

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL after STOP_SECONDS."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(STOP_SECONDS):
                await self.process.wait()
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    async def _relay_stderr(self, stream: asyncio.StreamReader) -> None:
        prefix = f"{self.name} | ".encode()
        while True:
            try:
                line = await stream.readline()
            except ValueError:  # a line over the limit: dropped, the next ones still come
                continue
            if not line:
                return
            sys.stderr.buffer.write(prefix + line)
            sys.stderr.buffer.flush()
            self.stderr.append(line.decode(errors="replace").rstrip())


def _exit_status(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


@dataclass
class EmbeddedServer:
    """An embedded PostgreSQL or NATS this process started, looked at every `interval` seconds."""

    name: str
    server: EmbeddedPostgres | EmbeddedNats
    interval: float = 0.5
    _start_error: str = ""

    async def start(self) -> None:
        try:
            await asyncio.to_thread(self.server.restart)
            self._start_error = ""
        except Exception as exc:
            self._start_error = f"{type(exc).__name__}: {exc}"

    async def ended(self) -> str:
        if self._start_error:
            return f"could not start ({self._start_error})"
        # Not a child of ours (pg_ctl detaches PostgreSQL): nothing to wait on but a look.
        while await asyncio.to_thread(self._alive):  # noqa: ASYNC110
            await asyncio.sleep(self.interval)
        return "stopped running"

    def last_error(self) -> list[str]:
        return ([self._start_error] if self._start_error else []) + self.server.log_tail()

    def _alive(self) -> bool:
        if isinstance(self.server, EmbeddedNats):
            return self.server.alive()
        return self.server.running()


def watched_servers(servers: Servers, interval: float) -> list[EmbeddedServer]:
    """The embedded servers this process started (it restarts them); not those it joined."""
    named = (("PostgreSQL", servers.postgres), ("NATS", servers.nats))
    return [
        EmbeddedServer(name, server, interval)
        for name, server in named
        if server is not None and server.started_here
    ]


async def supervise(
    parts: Sequence[Part], policy: RestartPolicy, stop: asyncio.Event, say: Say,
    also: Sequence[Awaitable[None]] = (),
) -> None:  # fmt: skip
    """Keep the (already started) parts running until `stop` is set; raise GaveUp when one
    keeps ending. `also` runs beside them: an exception there ends the supervision too."""
    stopped: asyncio.Future[Any] = asyncio.create_task(stop.wait())
    running: set[asyncio.Future[Any]] = {
        asyncio.create_task(_keep_running(p, policy, stop, say)) for p in parts
    }
    running |= {asyncio.ensure_future(job) for job in also}
    try:
        while not stopped.done():
            done, running = await asyncio.wait(running | {stopped}, return_when=asyncio.FIRST_COMPLETED)
            for task in done - {stopped}:
                task.result()  # raises what ended it, GaveUp included
            running -= {stopped}
    finally:
        for task in (*running, stopped):
            task.cancel()
        await asyncio.gather(*running, stopped, return_exceptions=True)


async def _keep_running(part: Part, policy: RestartPolicy, stop: asyncio.Event, say: Say) -> None:
    exits: deque[float] = deque()
    while True:
        how = await part.ended()
        if stop.is_set():
            return
        now = time.monotonic()
        exits.append(now)
        while exits[0] < now - policy.window:
            exits.popleft()
        if len(exits) >= policy.limit:
            raise GaveUp(_gave_up(part, how, len(exits), policy))
        delay = policy.delay(len(exits))
        say(f"{part.name} {how}; restarting it in {delay:.1f} s (exit {len(exits)} within "
            f"{policy.window:.0f} s; exit {policy.limit} stops everything)")  # fmt: skip
        await asyncio.sleep(delay)
        await part.start()


def _gave_up(part: Part, how: str, exits: int, policy: RestartPolicy) -> str:
    error = "\n".join(f"  {line}" for line in part.last_error()) or "  (it wrote nothing to stderr)"
    return (
        f"{part.name} {how} ({exits} exits within {policy.window:.0f} s): stopping everything.\n"
        f"Last error of {part.name}:\n{error}"
    )
