"""Chaos benchmark: messages posted under `tracker up` while the worker is SIGKILLed three
times, the embedded NATS once and the embedded PostgreSQL once.

    uv run python -m evals.bench_chaos [--messages 10000] [--batch 50] [--ack-wait 120]

Starts `tracker up` (local classifier) on a temporary data dir and posts the messages in six
equal parts through POST /api/messages/batch, each batch retried until the API takes it (a
repeated batch is stored once). Each of the first five parts is posted half before and half
after a kill: the first half, a wait until the worker has classified some of it (the system
works again after the last kill), the kill (worker, NATS, worker, PostgreSQL, worker: SIGKILL),
the second half while the victim is down, a wait until `tracker up` runs it again. Then the
last part, and a wait until every message is classified. Prints messages lost (never
stored), duplicated (stored twice), unclassified, classified twice (more than one current
issue), duplicate tasks (a message that opened two), exits of `tracker up`, the restarts it
logged, seconds to post, and seconds from the last post until every message was classified
(time to settle). --ack-wait sets TRACKER_TASK_ACK_WAIT: the tasks a killed worker held come
back after it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import Engine, text

from core.config import Settings
from core.runtime.embedded import free_port
from core.runtime.system import open_system
from evals.harness import (
    chat_message,
    nats_pid,
    part_pid,
    postmaster_pid,
    tracker_up,
    wait_for_health,
)

KILLS = ("worker", "NATS", "worker", "PostgreSQL", "worker")
STARTUP_SECONDS = 240.0
"""Longest wait for a process to start (tens of seconds on a loaded 2-core machine)."""

COUNTS = text(
    """
    SELECT count(*) AS stored_rows, count(DISTINCT external_id) AS distinct_stored,
           count(*) FILTER (WHERE status = 'classified') AS classified,
           (SELECT count(*) FROM (SELECT message_id FROM issues WHERE is_current
                                  GROUP BY message_id HAVING count(*) > 1) d) AS doubled_issues,
           (SELECT count(*) FROM (SELECT message_id FROM task_messages WHERE role = 'source'
                                  GROUP BY message_id HAVING count(*) > 1) d) AS doubled_tasks
    FROM messages WHERE source = 'bench'
    """
)


@dataclass
class ChaosReport:
    """What a chaos run left behind: every figure but the seconds should be 0 or `messages`."""

    messages: int
    stored_rows: int = 0
    distinct_stored: int = 0
    classified: int = 0
    doubled_issues: int = 0
    doubled_tasks: int = 0
    up_exits: int = 0
    restarts: int = 0
    post_seconds: float = 0.0
    settle_seconds: float = float("inf")

    @property
    def lost(self) -> int:
        return self.messages - self.distinct_stored

    @property
    def duplicated(self) -> int:
        return self.stored_rows - self.distinct_stored

    @property
    def unclassified(self) -> int:
        return self.distinct_stored - self.classified

    def summary(self) -> str:
        return (
            f"{self.messages} messages: lost {self.lost}, duplicated {self.duplicated}, unclassified "
            f"{self.unclassified}, classified twice {self.doubled_issues}, duplicate tasks "
            f"{self.doubled_tasks}; tracker up exits {self.up_exits}, restarts logged {self.restarts}; "
            f"posting {self.post_seconds:.1f} s, time to settle {self.settle_seconds:.1f} s"
        )


def wait_until(
    predicate: Callable[[], bool], what: str, timeout: float = STARTUP_SECONDS, interval: float = 0.05
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(interval)


@dataclass
class Chaos:
    """A running `tracker up`, a client of its API and an engine on its database."""

    up: subprocess.Popen[bytes]
    data_dir: Path
    client: httpx.Client
    engine: Engine

    def running(self) -> bool:
        """True while `tracker up` runs; its exit ends the run at once (it must never exit)."""
        if self.up.poll() is not None:
            raise RuntimeError(f"tracker up exited with {self.up.returncode}")
        return True

    def post(self, bodies: list[dict[str, object]], batch: int) -> None:
        """Post in batches, each again until the API takes it (it stores a known message once)."""
        for first in range(0, len(bodies), batch):
            self._post_until_taken({"messages": bodies[first : first + batch]})

    def _post_until_taken(self, body: dict[str, object]) -> None:
        wait_until(lambda: self.running() and self._taken(body), "the API to take a batch")

    def _taken(self, body: dict[str, object]) -> bool:
        with contextlib.suppress(httpx.HTTPError):
            return self.client.post("/api/messages/batch", json=body).status_code in (200, 201)
        return False

    def classified(self) -> int:
        """Messages classified so far (0 while the database is down)."""
        with contextlib.suppress(Exception), self.engine.connect() as conn:
            return int(
                conn.execute(text("SELECT count(*) FROM messages WHERE status = 'classified'")).scalar_one()
            )
        return 0

    def pid(self, victim: str) -> int | None:
        """The pid of the part `tracker up` runs as `victim`, while it runs."""
        if victim == "worker":
            return part_pid(self.up, "services.worker")
        return nats_pid(self.data_dir) if victim == "NATS" else postmaster_pid(self.data_dir)

    def kill(self, victim: str) -> int:
        """SIGKILL the victim once it runs; its pid."""
        wait_until(lambda: self.running() and self.pid(victim) is not None, victim)
        pid = self.pid(victim)
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        return pid

    def wait_back(self, victim: str, killed: int) -> None:
        """Wait until `tracker up` runs the victim again (a new process)."""
        wait_until(
            lambda: self.running() and self.pid(victim) not in (None, killed), f"{victim} running again"
        )

    def wait_progress(self, since: int) -> int:
        """Wait until more than `since` messages are classified; how many are."""
        wait_until(lambda: self.running() and self.classified() > since, "classification to go on")
        return self.classified()


def post_through_kills(chaos: Chaos, messages: int, batch: int) -> None:
    """The six parts and the five kills (the module's docstring)."""
    bodies = [chat_message("chaos", i) for i in range(messages)]
    size = -(-messages // (len(KILLS) + 1))
    done = 0
    for n, start in enumerate(range(0, messages, size)):
        part = bodies[start : start + size]
        if n >= len(KILLS):
            chaos.post(part, batch)
            continue
        chaos.post(part[: len(part) // 2], batch)
        done = chaos.wait_progress(done)
        killed = chaos.kill(KILLS[n])
        chaos.post(part[len(part) // 2 :], batch)
        chaos.wait_back(KILLS[n], killed)


def counted(engine: Engine, report: ChaosReport) -> ChaosReport:
    with engine.connect() as conn:
        row = conn.execute(COUNTS).one()
    for name, value in row._mapping.items():
        setattr(report, name, int(value))
    return report


def run_chaos(root: Path, messages: int, *, batch: int = 50, ack_wait: float = 120.0) -> ChaosReport:
    """Post `messages` under `tracker up` on root/data through the five kills; count the result."""
    data_dir, log, port = root / "data", root / "up.log", free_port()
    up = tracker_up(data_dir, port, log, TRACKER_TASK_ACK_WAIT=str(ack_wait))
    report = ChaosReport(messages)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_health(url, up, timeout=STARTUP_SECONDS)
        headers = {"Authorization": f"Bearer {(data_dir / 'api_key').read_text().strip()}"}
        settings = Settings(_env_file=None, data_dir=data_dir, database_url=None, nats_url=None)  # type: ignore[call-arg]
        with (
            open_system(settings, nats=False, start=False, migrate=False) as system,
            httpx.Client(base_url=url, headers=headers, timeout=30) as client,
        ):
            chaos = Chaos(up, data_dir, client, system.engine)
            start = time.monotonic()
            post_through_kills(chaos, messages, batch)
            report.post_seconds = time.monotonic() - start
            settle(chaos, report)
        report.up_exits = int(up.poll() is not None)
    finally:
        stop(up)
    report.restarts = log.read_text(errors="replace").count("; restarting it in ")
    return report


def stop(up: subprocess.Popen[bytes]) -> None:
    """SIGTERM, as Ctrl-C would; SIGKILL if it has not stopped within a minute."""
    up.send_signal(signal.SIGTERM)
    try:
        up.wait(60)
    except subprocess.TimeoutExpired:
        up.kill()
        up.wait()


def settle(chaos: Chaos, report: ChaosReport, timeout: float = 900.0) -> None:
    """Wait until every message is classified (or `timeout`); fill in the counts."""
    posted = time.monotonic()
    with contextlib.suppress(TimeoutError):
        wait_until(lambda: chaos.classified() >= report.messages, "every message classified", timeout, 0.5)
        report.settle_seconds = time.monotonic() - posted
    counted(chaos.engine, report)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--ack-wait", type=float, default=120.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tracker-chaos-") as tmp:
        report = run_chaos(Path(tmp), args.messages, batch=args.batch, ack_wait=args.ack_wait)
    print(f"load {os.getloadavg()}")
    print(report.summary())


if __name__ == "__main__":
    main()
