"""Grouping benchmark: the CPU each message's placement costs (conversation + task).

    uv run python -m evals.bench_grouping [--copies 10] [--batch 250] [--conversations FILE --tasks TASKS]

Replays our labelled demo chat (evals/datasets/demo_threads.jsonl, 297 messages; or the chats
of `--conversations`, e.g. team_threads.jsonl, whose two forum chats' batches also read the work
taken in their other topics) `copies` times, each copy its own chat, through ingestion and the
real pipeline with the local classifier, on embedded PostgreSQL, one message at a time as live
arrival would. Prints the per-message CPU time of this process inside placement
(core.conversations.placement.Placing.place) and its wall time (which includes PostgreSQL's
share), p50 / p95 / mean. Target: <= 2 ms CPU.
Then the whole of grouping a message, CPU: its share of its batch's chat locks and reads before
placing (the chat's latest conversations and their tasks, where the messages stand) and writes after
(`Placing.finish`: the conversations, tasks, history and links placement changed). One message
at a time, every message is a batch of its own: the worst case, a quiet chat.
With --batch N each copy is stored first and classified in batches of N in time order (as a
history import or a busy worker gets them).
Each copy is replayed a second time, into a chat of its own, with the pipeline's grouping left
out (no chat lock, no placement): the CPU and wall time of storing the batches' outcomes (issue
rows and placement) with and without grouping, per message, and their difference, which is
what grouping adds (the message's own UPDATE, which the pipeline sends either way, not counted).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from core.classification.types import Classifier
from core.conversations.placement import Placing
from core.db import session_scope
from core.evaluation.conversations import ChatMessage, load_conversations
from core.evaluation.conversations_replay import in_time_order, incoming, replay
from core.evaluation.runs import RunSpec, build
from core.messages.ingest import ingest
from core.runtime.system import System
from core.triage import pipeline
from core.triage.pipeline import classify_messages
from evals.harness import embedded_system

DATA = Path(__file__).parent / "datasets"


class Statements(threading.local):
    """The SQL statements grouping sends (counted while a timed step runs, in its thread), at
    psycopg's cursor: those SQLAlchemy sends and those sent on the driver (core.db.driver)."""

    counting = False
    sent = 0

    def counted(self, send: Callable[..., Any]) -> Callable[..., Any]:
        def sending(*args: Any, **kwargs: Any) -> Any:
            if self.counting:
                type(self).sent += 1
            return send(*args, **kwargs)

        return sending


STATEMENTS = Statements()


def timed(
    place: Callable[..., Any], cpu: list[float], wall: list[float], grouping: bool = True
) -> Callable[..., Any]:
    def measured(*args: Any, **kwargs: Any) -> Any:
        started, started_cpu = time.perf_counter(), time.thread_time()
        STATEMENTS.counting = grouping
        try:
            return place(*args, **kwargs)
        finally:
            STATEMENTS.counting = False
            cpu.append(time.thread_time() - started_cpu)
            wall.append(time.perf_counter() - started)

    return measured


def figures(name: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[int(len(ms) * 0.95) - 1]
    return f"{name}: p50 {statistics.median(ms):.2f} ms, p95 {p95:.2f} ms, mean {statistics.fmean(ms):.2f} ms"


async def _unannounced(new_events: list[dict[str, Any]]) -> None:
    """No listeners: the events stay in the outbox."""


def in_batches(system: System, classifier: Classifier, messages: list[ChatMessage], size: int) -> None:
    """Store every message, then classify them in time order `size` at a time, as the worker
    gets a history import."""
    with session_scope(system.engine) as session:
        received, _ = ingest(session, [incoming(m) for m in in_time_order(messages)])
    ids = [r.message.id or 0 for r in received]
    for start in range(0, len(ids), size):
        batch = ids[start : start + size]
        settings = system.settings
        asyncio.run(classify_messages(batch, engine=system.engine, settings=settings, classifier=classifier,
                                      publish=_unannounced))  # fmt: skip


class NoGrouping:
    """Placement that places nothing: the pipeline as it would be without grouping."""

    def __init__(self, *_: Any) -> None: ...

    def place(self, *_: Any) -> list[Any]:
        return []

    def finish(self) -> None: ...


@dataclass
class Timings:
    cpu: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    around: list[float] = field(default_factory=list)
    stored: tuple[list[float], list[float]] = field(default_factory=lambda: ([], []))
    """Storing the batches' outcomes (issue rows and placement), CPU and wall."""
    bare: tuple[list[float], list[float]] = field(default_factory=lambda: ([], []))
    """The same for the chats stored without grouping."""


@contextmanager
def grouping(on: bool, timings: Timings) -> Iterator[None]:
    """The pipeline with grouping (timed), or without it (`NoGrouping`: no chat locks either)."""
    store_outcomes, placing = pipeline.store_outcomes, pipeline.Placing
    pipeline.store_outcomes = timed(store_outcomes, *(timings.stored if on else timings.bare), grouping=False)  # type: ignore[assignment]
    if not on:
        pipeline.Placing = NoGrouping  # type: ignore[assignment,misc]
    try:
        yield
    finally:
        pipeline.store_outcomes, pipeline.Placing = store_outcomes, placing  # type: ignore[misc]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument(
        "--batch", type=int, default=0, help="classify in batches of this many (0: one at a time)"
    )
    parser.add_argument("--conversations", type=Path, default=DATA / "demo_threads.jsonl",
                        help="labelled chats to replay (as team_threads.jsonl)")  # fmt: skip
    parser.add_argument("--tasks", type=Path, default=DATA / "demo_threads_tasks.jsonl")
    args = parser.parse_args()
    data = load_conversations(args.conversations, args.tasks)
    t = Timings()
    Placing.place = timed(Placing.place, t.cpu, t.wall)  # type: ignore[method-assign]
    Placing.__init__ = timed(Placing.__init__, t.around, [])  # type: ignore[method-assign]
    Placing.finish = timed(Placing.finish, t.around, [])  # type: ignore[method-assign]
    psycopg.Cursor.execute = STATEMENTS.counted(psycopg.Cursor.execute)  # type: ignore[method-assign]
    psycopg.Cursor.executemany = STATEMENTS.counted(psycopg.Cursor.executemany)  # type: ignore[method-assign]
    with embedded_system() as system:
        classifier = build(RunSpec("local"), system.settings)
        for copy, on in itertools.product(range(args.copies), (True, False)):  # alternating
            chat = f"-{copy}" if on else f"-{copy}-bare"
            messages = [m.model_copy(update={"chat_id": m.chat_id + chat}) for m in data.messages]
            with grouping(on, t):
                if args.batch:
                    in_batches(system, classifier, messages, args.batch)
                else:
                    asyncio.run(replay(messages, engine=system.engine, settings=system.settings,
                                       classifier=classifier))  # fmt: skip
    report(args, len(data.messages), t)


def report(args: argparse.Namespace, per_copy: int, t: Timings) -> None:
    total = args.copies * per_copy
    copies = f"{args.copies} copies of {args.conversations.name}, {per_copy} messages each"
    print(f"{total} messages ({copies}), as many again without grouping")
    print(figures("placement CPU (this thread)", t.cpu))
    print(figures("placement wall (with PostgreSQL)", t.wall))
    batches = f"batches of {args.batch}" if args.batch else "a batch of its own each"
    whole = (sum(t.cpu) + sum(t.around)) / total * 1000
    print(f"grouping CPU with the batch's locks, reads and writes ({batches}): mean {whole:.2f} ms a message")
    print(f"SQL statements grouping sends: {Statements.sent / total:.2f} a message")
    grouped, bare = ([sum(s) / total * 1000 for s in pair] for pair in (t.stored, t.bare))
    print(f"storing the outcomes (issues and placement), {batches}: CPU {grouped[0]:.2f} ms a message "
          f"(this thread), wall {grouped[1]:.2f} ms")  # fmt: skip
    print(f"the same without grouping: CPU {bare[0]:.2f} ms a message, wall {bare[1]:.2f} ms")
    print(f"grouping adds to storing the outcomes: CPU {grouped[0] - bare[0]:.2f} ms a message, "
          f"wall {grouped[1] - bare[1]:.2f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
