"""What the system benchmarks share: embedded servers in a temporary data dir, API processes."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
from pydantic import SecretStr

from core.config import Settings
from core.runtime.embedded import child_env, free_port
from core.runtime.system import System, open_system


@contextlib.contextmanager
def embedded_system(**overrides: object) -> Iterator[System]:
    """Embedded PostgreSQL and NATS in a fresh data dir, migrated: the system opened on them
    (whatever TRACKER_DATABASE_URL and TRACKER_NATS_URL say: a benchmark starts from nothing)."""
    with tempfile.TemporaryDirectory(prefix="tracker-bench-") as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            api_key=SecretStr(secrets.token_urlsafe(16)),
            queue_name=f"bench{secrets.token_hex(4)}",
            **{"database_url": None, "nats_url": None, **overrides},  # type: ignore[arg-type]
        )
        with open_system(settings) as system:
            yield system


@dataclass
class Server:
    url: str
    pid: int


@contextlib.contextmanager
def api_server(settings: Settings) -> Iterator[Server]:
    """`python -m services.api` on a free port, once /api/health says 200."""
    port = free_port()
    env = child_env(settings) | {"TRACKER_API_PORT": str(port), "TRACKER_QUEUE_NAME": settings.queue_name}
    proc = subprocess.Popen([sys.executable, "-m", "services.api"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(url, proc)
        yield Server(url, proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_for_health(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> float:
    """Seconds until GET /api/health answers 200; raises if the process dies or time runs out."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"process {proc.pid} exited with {proc.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                return time.monotonic() - start
        time.sleep(0.05)
    raise TimeoutError(f"{url} not healthy within {timeout} s")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tracker_up(data_dir: Path, api_port: int, log: Path, **env_vars: str) -> subprocess.Popen[bytes]:
    """`tracker up` as a user runs it, on `data_dir` (embedded servers, local classifier),
    its output appended to `log`; `env_vars` (TRACKER_*) on top."""
    return tracker("up", data_dir, api_port, log, **env_vars)


def tracker(
    command: str, data_dir: Path, api_port: int, log: Path, **env_vars: str
) -> subprocess.Popen[bytes]:
    """`tracker <command>` (up, worker, ...) on `data_dir`, as `tracker_up` runs it: a
    `tracker worker` joins the embedded servers a `tracker up` on the same data dir started."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_") and k != "TELEGRAM_BOT_TOKEN"}
    env.update(
        TRACKER_DATA_DIR=str(data_dir),
        TRACKER_API_PORT=str(api_port),
        TRACKER_DASHBOARD_PORT=str(free_port()),
        TRACKER_CLASSIFIER="local",
        **env_vars,
    )
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-c", "from services.cli import main; main()", command],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


def part_pid(up: subprocess.Popen[bytes], module: str) -> int | None:
    """The pid of `tracker up`'s live child that runs `python -m <module>`, if any."""
    for child in psutil.Process(up.pid).children():
        with contextlib.suppress(psutil.NoSuchProcess):
            if module in child.cmdline() and child.status() != psutil.STATUS_ZOMBIE:
                return child.pid
    return None


def nats_pid(data_dir: Path) -> int | None:
    """The pid of the embedded nats-server serving `data_dir`, if it runs."""
    with contextlib.suppress(FileNotFoundError, ValueError, KeyError):
        return _live(int(json.loads((data_dir / "nats" / "server.json").read_text())["pid"]))
    return None


def postmaster_pid(data_dir: Path) -> int | None:
    """The pid of the embedded PostgreSQL serving `data_dir`, if it runs."""
    with contextlib.suppress(FileNotFoundError, ValueError, IndexError):
        return _live(int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0]))
    return None


def _live(pid: int) -> int | None:
    with contextlib.suppress(psutil.NoSuchProcess):
        return pid if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE else None
    return None


def processes_using(data_dir: Path) -> list[psutil.Process]:
    """Live processes whose command line names the data dir (PostgreSQL detaches from its parent)."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if str(data_dir) in cmdline and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(proc)
    return found


def auth(settings: Settings) -> dict[str, str]:
    key = settings.api_key.get_secret_value() if settings.api_key else ""
    return {"Authorization": f"Bearer {key}"}


def chat_message(run: str, i: int) -> dict[str, object]:
    """A realistic, unique chat message (about 80 bytes of text)."""
    texts = ["checkout fails with 502 after the last deploy", "please add CSV export to reports",
             "how do I reset my password?", "thanks, works now 👍", "ошибка при оплате картой"]  # fmt: skip
    return {
        "source": "bench",
        "chat_id": f"chat-{i % 7}",
        "external_id": f"{run}-{i}",
        "author": f"user{i % 50}",
        "text": f"{texts[i % len(texts)]} (#{i})",
        "sent_at": "2026-11-21T10:00:00Z",
    }
