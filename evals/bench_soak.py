"""Soak benchmark: `tracker up` under a steady stream of messages; does any process grow?

    uv run python -m evals.bench_soak [--minutes 30] [--rate 200] [--batch 20] [--sample 10]

Starts `tracker up` (local classifier) on a temporary data dir and posts `--rate` messages a
second for `--minutes` through POST /api/messages/batch (`--batch` a request, paced against
the clock). Every `--sample` seconds it reads the resident memory (RSS) of each process:
`tracker up` itself, the API, the worker, the dashboard, NATS and the PostgreSQL postmaster
(its backends: the sum of their private memory, as RSS counts shared buffers in each).
Prints, per process, RSS at the start (the first sample after the warm-up: a tenth of the run,
at least a minute, at most half of it, while the model loads and caches and pools fill), at
the end, its growth in %, and its peak; and the messages
posted, stored and classified, the rate achieved and how far classification lagged at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
from sqlalchemy import Engine, text

from core.config import Settings
from core.runtime.embedded import free_port
from core.runtime.system import open_system
from evals.bench_chaos import STARTUP_SECONDS, stop
from evals.harness import chat_message, nats_pid, part_pid, postmaster_pid, tracker_up, wait_for_health

MB = 1024 * 1024
COUNTS = text(
    "SELECT count(*), count(*) FILTER (WHERE status = 'classified') FROM messages WHERE source = 'bench'"
)


@dataclass
class Memory:
    """RSS samples (bytes) of one process, after the warm-up."""

    samples: list[int] = field(default_factory=list)

    def line(self, name: str) -> str:
        if not self.samples:
            return f"{name:<24} no samples"
        start, end = self.samples[0], self.samples[-1]
        growth = 100.0 * (end - start) / start if start else 0.0
        return (
            f"{name:<24} start {start / MB:8.1f} MB  end {end / MB:8.1f} MB  growth {growth:+6.1f} %"
            f"  peak {max(self.samples) / MB:8.1f} MB"
        )


def private_bytes(pid: int) -> int:
    """Memory the process alone holds (USS; RSS where /proc/PID/smaps is unreadable)."""
    process = psutil.Process(pid)
    with contextlib.suppress(psutil.AccessDenied):
        return int(process.memory_full_info().uss)
    return int(process.memory_info().rss)


def postgres_backends(postmaster: int) -> int:
    """The private memory of the postmaster's children (backends, walwriter, ...)."""
    total = 0
    for child in psutil.Process(postmaster).children():
        with contextlib.suppress(psutil.NoSuchProcess):
            total += private_bytes(child.pid)
    return total


def rss(pid: int | None) -> int | None:
    if pid is None:
        return None
    with contextlib.suppress(psutil.NoSuchProcess):
        return int(psutil.Process(pid).memory_info().rss)
    return None


@dataclass
class Soak:
    """A running `tracker up` on `data_dir`, a client of its API and the samples taken."""

    pids: dict[str, Callable[[], int | None]]
    memory: dict[str, Memory] = field(default_factory=dict)

    def sample(self) -> None:
        for name, pid_of in self.pids.items():
            value = rss(pid_of()) if not name.startswith("postgres backends") else _backends(pid_of())
            if value is not None:
                self.memory.setdefault(name, Memory()).samples.append(value)


def _backends(postmaster: int | None) -> int | None:
    if postmaster is None:
        return None
    with contextlib.suppress(psutil.NoSuchProcess):
        return postgres_backends(postmaster)
    return None


def process_finders(up: subprocess.Popen[bytes], data_dir: Path) -> dict[str, Callable[[], int | None]]:
    """How to find each process's pid now (a restarted part has a new one)."""
    return {
        "tracker up": lambda: up.pid,
        "api": lambda: part_pid(up, "services.api"),
        "worker": lambda: part_pid(up, "services.worker"),
        "dashboard": lambda: part_pid(up, "streamlit"),
        "nats": lambda: nats_pid(data_dir),
        "postgres (postmaster)": lambda: postmaster_pid(data_dir),
        "postgres backends (USS)": lambda: postmaster_pid(data_dir),
    }


def post_steadily(client: httpx.Client, soak: Soak, args: argparse.Namespace) -> int:
    """Post `args.rate` messages a second for `args.minutes`, sampling memory as it goes."""
    total, seconds = int(args.rate * args.minutes * 60), args.minutes * 60
    start = time.monotonic()
    warm_up, next_sample, posted = min(max(60.0, seconds / 10), seconds / 2), 0.0, 0
    while posted < total:
        body = {"messages": [chat_message("soak", posted + i) for i in range(args.batch)]}
        with contextlib.suppress(httpx.HTTPError):
            if client.post("/api/messages/batch", json=body).status_code in (200, 201):
                posted += args.batch
        elapsed = time.monotonic() - start
        if elapsed >= warm_up and elapsed >= next_sample:
            soak.sample()
            next_sample = elapsed + args.sample
        time.sleep(max(0.0, start + posted / args.rate - time.monotonic()))
    return posted


def counts(engine: Engine) -> tuple[int, int]:
    query = (
        "SELECT count(*), count(*) FILTER (WHERE status = 'classified') FROM messages WHERE source = 'bench'"
    )
    with engine.connect() as conn:
        stored, classified = conn.execute(text(query)).one()
    return int(stored), int(classified)


def run_soak(root: Path, args: argparse.Namespace) -> list[str]:
    """The soak run; the report's lines."""
    data_dir, log, port = root / "data", root / "up.log", free_port()
    up = tracker_up(data_dir, port, log)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_health(url, up, timeout=STARTUP_SECONDS)
        headers = {"Authorization": f"Bearer {(data_dir / 'api_key').read_text().strip()}"}
        settings = Settings(_env_file=None, data_dir=data_dir, database_url=None, nats_url=None)  # type: ignore[call-arg]
        soak = Soak(process_finders(up, data_dir))
        with (
            open_system(settings, nats=False, start=False, migrate=False) as system,
            httpx.Client(base_url=url, headers=headers, timeout=30) as client,
        ):
            started = time.monotonic()
            posted = post_steadily(client, soak, args)
            seconds = time.monotonic() - started
            soak.sample()
            stored, classified = counts(system.engine)
        exited = up.poll()
    finally:
        stop(up)
    lines = [memory.line(name) for name, memory in soak.memory.items()]
    lines.append(
        f"posted {posted} in {seconds:.0f} s ({posted / seconds:.1f} messages/s), stored {stored}, "
        f"classified {classified} at the end ({stored - classified} behind); tracker up exited: {exited}"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=200.0, help="messages a second")
    parser.add_argument("--batch", type=int, default=20, help="messages a request")
    parser.add_argument("--sample", type=float, default=10.0, help="seconds between two memory samples")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tracker-soak-") as tmp:
        lines = run_soak(Path(tmp), args)
    print(f"{args.minutes:g} min at {args.rate:g} messages/s; load {os.getloadavg()}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
