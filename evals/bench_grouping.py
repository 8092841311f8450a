"""Grouping benchmark: the CPU each message's placement costs (conversation + task).

    uv run python -m evals.bench_grouping [--copies 10]

Replays our labelled demo chat (evals/datasets/demo_threads.jsonl, 297 messages) `copies`
times, each copy its own chat, through ingestion and the real pipeline with the local
classifier, on embedded PostgreSQL, one message at a time as live arrival would. Prints the
per-message CPU time of this process inside placement (core.conversations.placement.Placing.place)
and its wall time (which includes PostgreSQL's share), p50 / p95 / mean. Target: <= 2 ms CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.conversations.placement import Placing
from core.evaluation.conversations import load_conversations
from core.evaluation.conversations_replay import replay
from core.evaluation.runs import RunSpec, build
from evals.harness import embedded_system

DATA = Path(__file__).parent / "datasets"


def timed(place: Callable[..., Any], cpu: list[float], wall: list[float]) -> Callable[..., Any]:
    def measured(*args: Any, **kwargs: Any) -> Any:
        started, started_cpu = time.perf_counter(), time.thread_time()
        try:
            return place(*args, **kwargs)
        finally:
            cpu.append(time.thread_time() - started_cpu)
            wall.append(time.perf_counter() - started)

    return measured


def figures(name: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[int(len(ms) * 0.95) - 1]
    return f"{name}: p50 {statistics.median(ms):.2f} ms, p95 {p95:.2f} ms, mean {statistics.fmean(ms):.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=10)
    copies = parser.parse_args().copies
    data = load_conversations(DATA / "demo_threads.jsonl", DATA / "demo_threads_tasks.jsonl")
    cpu: list[float] = []
    wall: list[float] = []
    Placing.place = timed(Placing.place, cpu, wall)  # type: ignore[method-assign]
    with embedded_system() as system:
        classifier = build(RunSpec("local"), system.settings)
        for copy in range(copies):
            messages = [m.model_copy(update={"chat_id": f"{m.chat_id}-{copy}"}) for m in data.messages]
            asyncio.run(
                replay(messages, engine=system.engine, settings=system.settings, classifier=classifier)
            )
    print(f"placed {len(cpu)} messages ({copies} copies of the demo chat, {len(data.messages)} each)")
    print(figures("placement CPU (this thread)", cpu))
    print(figures("placement wall (with PostgreSQL)", wall))


if __name__ == "__main__":
    main()
