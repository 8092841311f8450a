"""Chaos under `tracker up`: messages posted while the worker is SIGKILLed three times, the
embedded NATS once and PostgreSQL once are each stored once, classified once, open no task
twice, and `tracker up` never exits (evals/bench_chaos.py runs it at 10,000 messages)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.bench_chaos import KILLS, run_chaos
from evals.harness import processes_using
from tests.support.processes import wait_until

pytestmark = pytest.mark.timeout(1800)


def test_nothing_lost_or_doubled_through_kills_of_worker_nats_and_postgres(tmp_path: Path) -> None:
    report = run_chaos(tmp_path, 300, batch=10, ack_wait=10.0)
    assert report.up_exits == 0
    assert (report.lost, report.duplicated, report.unclassified) == (0, 0, 0), report.summary()
    assert (report.doubled_issues, report.doubled_tasks) == (0, 0), report.summary()
    assert report.restarts >= len(KILLS)
    wait_until(lambda: not processes_using(tmp_path / "data"), timeout=30, what="no process left behind")
