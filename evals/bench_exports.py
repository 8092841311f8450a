"""Exports benchmark: how fast accepted tasks reach the tracker, and a flood against a tracker
that answers 429 to every third call.

    uv run python -m evals.bench_exports [--tasks 1000] [--redmine 30]

Embedded PostgreSQL and NATS in a temp dir and one real worker process. Flood: --tasks tasks
accepted in one transaction towards a webhook receiver on loopback that answers 429
(Retry-After: 1) to every third request; prints the time until every export is `exported`,
the requests, the 429s, and how many tasks the receiver kept once, twice or never (exactly
once: all once). Redmine: a real Redmine (Debian's package, evals/redmine_server.py) and
--redmine tasks accepted one after another; for each, the time from the accept's commit until
Redmine lists the issue (polled every 20 ms): p50, p95, max. --redmine 0 skips it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import text

from core.config import Settings
from core.exports import targets
from core.exports.vault import vault
from core.models import ExportTarget, Kind
from core.runtime.embedded import child_env
from core.runtime.system import System
from core.schemas import TaskCreate
from core.triage.commands import accept_task, create_task, for_each_task
from evals.harness import embedded_system
from evals.redmine_server import RunningRedmine, redmine_server
from evals.webhook_receiver import Answer, Receiver, running

SECRET = "bench-secret"


def worker(settings: Settings) -> subprocess.Popen[bytes]:
    env = child_env(settings) | {"TRACKER_QUEUE_NAME": settings.queue_name, "TRACKER_EXPORT_TIMEOUT": "30"}
    log = (settings.runtime_dir / "worker.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "services.worker"], env=env, stdout=log, stderr=subprocess.STDOUT
    )


def add_target(system: System, row: ExportTarget, secret: str) -> None:
    with system.session() as session:
        targets.add_target(session, row, vault(system.settings), SecretStr(secret))


def new_tasks(system: System, n: int, title: str) -> list[int]:
    with system.session() as session:
        return [
            create_task(session, TaskCreate(title=f"{title} {i}", kind=Kind.bug))[0].id or 0 for i in range(n)
        ]


def count(system: System, sql: str, **params: Any) -> int:
    with system.engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def wait(predicate: Any, timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(interval)


async def accept_all(system: System, task_ids: list[int]) -> None:
    """Accept the tasks in one transaction and queue their exports (as the API does)."""
    services = await system.services()
    try:
        decide = lambda s: for_each_task(s, dict.fromkeys(task_ids), accept_task)  # noqa: E731
        await services.run(decide)
    finally:
        await services.close()


def warm_up(system: System) -> None:
    """One export before the clock starts: the worker is up and pulling."""
    asyncio.run(accept_all(system, new_tasks(system, 1, "warm-up")))
    done = "SELECT count(*) FROM task_exports WHERE status = 'exported'"
    wait(lambda: count(system, done) == 1, 300, "worker started")


def every_third(n: int) -> Answer:
    return Answer(429, {"Retry-After": "1"}) if n % 3 == 0 else Answer()


def flood(system: System, n: int) -> dict[str, Any]:
    with running(Receiver(SECRET, every=every_third)) as receiver:
        add_target(system, ExportTarget(name="flood", type="webhook", url=receiver.url), SECRET)
        warm_up(system)
        ids = new_tasks(system, n, "flood")
        started = time.monotonic()
        asyncio.run(accept_all(system, ids))
        done = "SELECT count(*) FROM task_exports WHERE task_id = ANY(:ids) AND status = 'exported'"
        wait(lambda: count(system, done, ids=ids) == n, 1800, "flood drained", interval=0.2)
        drain = time.monotonic() - started
        taken = Counter(json.loads(r["body"])["task"]["id"] for r in receiver.requests if r["status"] == 200)
        statuses = Counter(r["status"] for r in receiver.requests)
    once = sum(1 for t in ids if taken[t] == 1)
    twice = sum(1 for t in ids if taken[t] > 1)
    return {"tasks": n, "drain_s": round(drain, 1), "requests": len(receiver.requests),
            "answers": dict(statuses), "delivered_once": once, "delivered_twice_or_more": twice,
            "never": n - once - twice}  # fmt: skip


def redmine_latency(system: System, n: int, root: Path) -> dict[str, Any]:
    with system.session() as session:
        targets.remove_target(session, "flood")  # only Redmine takes these tasks
    with redmine_server(root) as redmine:
        add_target(
            system,
            ExportTarget(name="rm", type="redmine", url=redmine.url, project=redmine.project),
            redmine.key,
        )
        ids, seconds = new_tasks(system, n, "redmine"), []
        for task_id in ids:
            started = time.monotonic()
            asyncio.run(accept_all(system, [task_id]))
            wait(partial(_listed, redmine, _marker(system, task_id)), 120, f"task {task_id} in Redmine", 0.02)
            seconds.append(time.monotonic() - started)
        total = len(redmine.issues())
    q = statistics.quantiles(seconds, n=20)
    return {"tasks": n, "p50_s": round(statistics.median(seconds), 3), "p95_s": round(q[18], 3),
            "max_s": round(max(seconds), 3), "redmine_issues": total}  # fmt: skip


def _marker(system: System, task_id: int) -> str:
    with system.engine.connect() as conn:
        return str(
            conn.execute(
                text("SELECT marker FROM task_exports WHERE task_id = :t AND target = 'rm'"), {"t": task_id}
            ).scalar_one()
        )


def _listed(redmine: RunningRedmine, marker: str) -> list[dict[str, object]]:
    return redmine.issues(**{"f[]": "description", "op[description]": "~", "v[description][]": marker})


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--redmine", type=int, default=30)
    args = parser.parse_args()
    with embedded_system(classifier="local") as system:
        proc = worker(system.settings)
        try:
            print("flood:", flood(system, args.tasks), flush=True)
            if args.redmine:
                with tempfile.TemporaryDirectory(prefix="bench-redmine-") as tmp:
                    print("redmine:", redmine_latency(system, args.redmine, Path(tmp)), flush=True)
        finally:
            proc.terminate()
            proc.wait(30)


if __name__ == "__main__":
    main()
