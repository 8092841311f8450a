"""Soak benchmark: `tracker up` under a steady stream of messages; does any process grow?

    uv run python -m evals.bench_soak [--minutes 30] [--rate 200] [--batch 20] [--workers 2]
                                      [--sample 10] [--warm-up 5]

Starts `tracker up` (local classifier) on a temporary data dir, and `--workers` - 1 more
`tracker worker` processes on it (so the workers keep up and no backlog builds: a queue that
grows holds more memory by design), and posts `--rate` messages a second for `--minutes`
through POST /api/messages/batch (`--batch` a request, paced against the clock). Every
`--sample` seconds it reads the private memory of each process, RssAnon from
/proc/PID/status: `tracker up` itself, the API, each worker, the dashboard, NATS, the
PostgreSQL postmaster and its backends (their sum, and how many there were). RSS would also count the file and
shared pages a process has touched: PostgreSQL backends map the shared buffers and their RSS
grows as they touch more pages of it (up to shared_buffers, not a leak); RssAnon is the
memory the process itself allocated, where a leak shows.

Growth is measured from the warm-up baseline: the first sample after `--warm-up` minutes
(at most half the run), when the model is loaded, the caches and connection pools filled.
Prints, per process, the baseline, the end, the growth in %, the peak; then the messages
posted, stored and classified, the rate achieved, and the backlog (stored, not yet
classified) at each tenth of the run and at the end.
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
from evals.harness import chat_message, nats_pid, part_pid, postmaster_pid, tracker, wait_for_health

MB = 1024 * 1024
COUNTS = text(
    "SELECT count(*), count(*) FILTER (WHERE status = 'classified') FROM messages WHERE source = 'bench'"
)


@dataclass
class Memory:
    """Private memory samples (bytes) of one process (or group), after the warm-up."""

    samples: list[int] = field(default_factory=list)

    def growth(self) -> float:
        start, end = self.samples[0], self.samples[-1]
        return 100.0 * (end - start) / start if start else 0.0

    def line(self, name: str) -> str:
        if not self.samples:
            return f"{name:<26} no samples"
        start, end = self.samples[0], self.samples[-1]
        return (
            f"{name:<26} start {start / MB:8.1f} MB  end {end / MB:8.1f} MB  "
            f"growth {self.growth():+6.1f} %  peak {max(self.samples) / MB:8.1f} MB"
        )


def private_bytes(pid: int) -> int | None:
    """The process's anonymous resident memory (RssAnon): what it allocated itself, without
    the file pages and shared memory (PostgreSQL's shared buffers) that RSS also counts."""
    with contextlib.suppress(FileNotFoundError, ProcessLookupError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    return None


def postgres_backends(postmaster: int | None) -> list[int] | None:
    """The private memory of each of the postmaster's children (backends, walwriter, ...)."""
    if postmaster is None:
        return None
    with contextlib.suppress(psutil.NoSuchProcess):
        return [private_bytes(child.pid) or 0 for child in psutil.Process(postmaster).children()]
    return None


@dataclass
class Soak:
    """The processes watched (how to find each one's pid now), their samples, the backlog."""

    pids: dict[str, Callable[[], int | None]]
    memory: dict[str, Memory] = field(default_factory=dict)
    backlog: list[tuple[float, int, int]] = field(default_factory=list)
    """(seconds into the run, stored, classified) at each tenth of the run."""
    backends: list[int] = field(default_factory=list)
    """How many children the postmaster had at each sample (the sum moves with the pools)."""

    def sample(self) -> None:
        for name, pid_of in self.pids.items():
            pid = pid_of()
            value = self._backends(pid) if name.startswith("postgres backends") else _own(pid)
            if value is not None:
                self.memory.setdefault(name, Memory()).samples.append(value)

    def _backends(self, postmaster: int | None) -> int | None:
        each = postgres_backends(postmaster)
        if each is None:
            return None
        self.backends.append(len(each))
        return sum(each)


def _own(pid: int | None) -> int | None:
    return None if pid is None else private_bytes(pid)


def process_finders(
    up: subprocess.Popen[bytes], workers: list[subprocess.Popen[bytes]], data_dir: Path
) -> dict[str, Callable[[], int | None]]:
    """How to find each process's pid now (a restarted part has a new one)."""
    finders: dict[str, Callable[[], int | None]] = {
        "tracker up": lambda: up.pid,
        "api": lambda: part_pid(up, "services.api"),
        "worker 1": lambda: part_pid(up, "services.worker"),
        "dashboard": lambda: part_pid(up, "streamlit"),
        "nats": lambda: nats_pid(data_dir),
        "postgres (postmaster)": lambda: postmaster_pid(data_dir),
        "postgres backends (sum)": lambda: postmaster_pid(data_dir),
    }
    for n, extra in enumerate(workers, start=2):
        finders[f"worker {n}"] = lambda extra=extra: part_pid(extra, "services.worker")  # type: ignore[misc]
    return finders


def post_steadily(client: httpx.Client, engine: Engine, soak: Soak, args: argparse.Namespace) -> int:
    """Post `args.rate` messages a second for `args.minutes`, sampling memory as it goes."""
    total, seconds = int(args.rate * args.minutes * 60), args.minutes * 60
    start = time.monotonic()
    warm_up, next_sample, next_count, posted = min(args.warm_up * 60, seconds / 2), 0.0, 0.0, 0
    while posted < total:
        body = {"messages": [chat_message("soak", posted + i) for i in range(args.batch)]}
        with contextlib.suppress(httpx.HTTPError):
            if client.post("/api/messages/batch", json=body).status_code in (200, 201):
                posted += args.batch
        elapsed = time.monotonic() - start
        if elapsed >= warm_up and elapsed >= next_sample:
            soak.sample()
            next_sample = elapsed + args.sample
        if elapsed >= next_count:
            soak.backlog.append((elapsed, *counts(engine)))
            next_count = elapsed + seconds / 10
        time.sleep(max(0.0, start + posted / args.rate - time.monotonic()))
    return posted


def counts(engine: Engine) -> tuple[int, int]:
    """Messages of the run stored, and classified."""
    with engine.connect() as conn:
        stored, classified = conn.execute(COUNTS).one()
    return int(stored), int(classified)


def run_soak(root: Path, args: argparse.Namespace) -> list[str]:
    """The soak run; the report's lines."""
    data_dir, log, port = root / "data", root / "up.log", free_port()
    up, workers = tracker("up", data_dir, port, log), []
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_health(url, up, timeout=STARTUP_SECONDS)
        workers = [tracker("worker", data_dir, port, log) for _ in range(args.workers - 1)]
        headers = {"Authorization": f"Bearer {(data_dir / 'api_key').read_text().strip()}"}
        settings = Settings(_env_file=None, data_dir=data_dir, database_url=None, nats_url=None)  # type: ignore[call-arg]
        soak = Soak(process_finders(up, workers, data_dir))
        with (
            open_system(settings, nats=False, start=False, migrate=False) as system,
            httpx.Client(base_url=url, headers=headers, timeout=30) as client,
        ):
            started = time.monotonic()
            posted = post_steadily(client, system.engine, soak, args)
            seconds = time.monotonic() - started
            soak.sample()
            soak.backlog.append((seconds, *counts(system.engine)))
        exited = up.poll()
    finally:
        for process in [*workers, up]:
            stop(process)
    return report(soak, posted, seconds, exited)


def report(soak: Soak, posted: int, seconds: float, exited: int | None) -> list[str]:
    lines = [memory.line(name) for name, memory in soak.memory.items()]
    stored, classified = soak.backlog[-1][1:]
    lines.append(
        f"posted {posted} in {seconds:.0f} s ({posted / seconds:.1f} messages/s), stored {stored}, "
        f"classified {classified} at the end ({stored - classified} behind); tracker up exited: {exited}"
    )
    if soak.backends:
        lines.append(_backends_line(soak.backends, soak.memory["postgres backends (sum)"].samples))
    lines.append(
        "backlog (stored - classified) over the run: "
        + ", ".join(f"{at:.0f} s: {s - c}" for at, s, c in soak.backlog)
    )
    return lines


def _backends_line(counts: list[int], sums: list[int]) -> str:
    first, last = sums[0] / counts[0] / MB, sums[-1] / counts[-1] / MB
    return (
        f"postgres: {counts[0]} children at the baseline ({first:.1f} MB each on average), "
        f"{counts[-1]} at the end ({last:.1f} MB), {min(counts)}-{max(counts)} over the run"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=200.0, help="messages a second")
    parser.add_argument("--batch", type=int, default=20, help="messages a request")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (tracker up's + more)")
    parser.add_argument("--sample", type=float, default=10.0, help="seconds between two memory samples")
    parser.add_argument("--warm-up", type=float, default=5.0, help="minutes before the baseline sample")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tracker-soak-") as tmp:
        lines = run_soak(Path(tmp), args)
    print(
        f"{args.minutes:g} min at {args.rate:g} messages/s, {args.workers} worker(s); load {os.getloadavg()}"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
