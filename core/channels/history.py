"""A channel's history through core's bulk path, one committed batch at a time.

Every channel's import (a Telegram export, a Slack export, a mailbox) gives rows here:
known messages are skipped (ON CONFLICT on source + chat + external id), so a re-run
adds only what is missing, and everything before a broken place stays stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from core.db import session_scope
from core.messages.bulk import BulkRow, BulkStored, insert_staged, stage
from core.models import MessageBase
from core.runtime.bootstrap import Services
from core.schemas import MessageCreate


@dataclass
class HistoryReport:
    """What an import did so far: new messages, known ones skipped, queued for classification."""

    stored: int = 0
    existing: int = 0
    queued: int = 0


BATCH_SIZE = 10_000
"""Rows a committed batch holds. Each batch waits for the one before it to commit, and every
hand-over costs a few round trips, each waiting for the reading thread to let go of the
GIL: 10,000 rows a batch imported about a third faster than 5,000 on two loaded cores.
Beyond that PostgreSQL's time a row grows (at 20,000, up to twice as much)."""


def row_of(item: MessageCreate, edited_at: datetime | None = None) -> BulkRow:
    """A validated message as a bulk row (for channels whose history is read message by message)."""
    fields = {name: getattr(item, name) for name in MessageBase.model_fields}
    return BulkRow(**fields, edited_at=edited_at, classify=item.classify)


async def store_history(
    services: Services,
    rows: Iterable[BulkRow],
    report: HistoryReport,
    *,
    batch_size: int = BATCH_SIZE,
    after_batch: Callable[[], None] | None = None,
) -> None:
    """Store rows in committed batches (counted in `report`) and queue the new ones for
    classification; `after_batch` runs after each batch (a progress bar). What was read
    before an error in `rows` is stored, then the error is raised."""
    pipeline = _Pipeline(services, report)
    batch: list[BulkRow] = []
    with _frequent_switches(), _rare_collections():
        try:
            for row in rows:
                batch.append(row)
                if len(batch) >= batch_size:
                    await pipeline.submit(batch)
                    batch = []
                    if after_batch:
                        after_batch()
        finally:
            await pipeline.finish(batch)
    if after_batch:
        after_batch()


@contextlib.contextmanager
def _frequent_switches() -> Iterator[None]:
    """The reading thread would hold the GIL for 5 ms at a time while a storing thread that
    just got PostgreSQL's answer waits for it: trade it more often during the import."""
    switch = sys.getswitchinterval()
    sys.setswitchinterval(min(switch, 0.0005))
    try:
        yield
    finally:
        sys.setswitchinterval(switch)


@contextlib.contextmanager
def _rare_collections() -> Iterator[None]:
    """Batches keep thousands of rows alive until they are stored, and at the default
    threshold (700 new objects) the cyclic collector walked them, and every long-lived
    object of the process, hundreds of times an import (0.7 of the 3.9 s of CPU the
    process spent on 200,000 messages). Rows hold no reference cycles: collect rarely."""
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], COLLECT_AFTER), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


@dataclass
class _Pipeline:
    """Batches are stored in order by two threads: while one inserts, the next copies its
    rows into its own staging table, then inserts once the one before has committed (so
    its replies find their parents). Reading goes on meanwhile; queueing for
    classification (a round trip to NATS per job) runs alongside."""

    services: Services
    report: HistoryReport
    in_flight: deque[asyncio.Task[None]] = field(default_factory=deque)
    turn: _Turn = field(default_factory=lambda: _Turn.done())
    queueing: list[asyncio.Task[None]] = field(default_factory=list)

    async def submit(self, batch: list[BulkRow]) -> None:
        while len(self.in_flight) >= IN_FLIGHT:
            await self.in_flight.popleft()
        previous, self.turn = self.turn, _Turn()
        self.in_flight.append(asyncio.create_task(self._store(batch, previous, self.turn)))
        await asyncio.sleep(0)  # let it reach its thread before reading on

    async def finish(self, batch: list[BulkRow]) -> None:
        if batch:
            await self.submit(batch)
        outcomes = await asyncio.gather(*self.in_flight, return_exceptions=True)
        await asyncio.gather(*self.queueing)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def _store(self, rows: list[BulkRow], previous: _Turn, mine: _Turn) -> None:
        stored, new_events = await asyncio.to_thread(self._write, rows, previous, mine)
        await self.services.publish(new_events)
        self.queueing = [task for task in self.queueing if not task.done()]
        self.queueing.append(asyncio.create_task(self.services.enqueue(list(stored.pending))))
        self.report.stored += stored.created
        self.report.existing += stored.existing
        self.report.queued += len(stored.pending)

    def _write(
        self, rows: list[BulkRow], previous: _Turn, mine: _Turn
    ) -> tuple[BulkStored, list[dict[str, Any]]]:
        lease = self.services.settings.task_ack_wait
        try:
            for attempt in range(1, ATTEMPTS + 1):
                try:
                    with session_scope(self.services.engine) as session:
                        previous.staged.wait()  # ids are drawn in the file's order
                        given = stage(session, rows)
                        mine.staged.set()
                        previous.stored.wait()
                        return insert_staged(session, given, lease_seconds=lease)
                except IntegrityError:
                    # A parent in this batch was stored meanwhile by someone else (the bot),
                    # so this batch skipped it and its replies pointed at nothing: again.
                    if attempt == ATTEMPTS:
                        raise
            raise AssertionError("unreachable")
        finally:
            mine.staged.set()
            mine.stored.set()


@dataclass
class _Turn:
    """One batch's progress, which the next batch waits on."""

    staged: threading.Event = field(default_factory=threading.Event)
    stored: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def done(cls) -> _Turn:
        turn = cls()
        turn.staged.set()
        turn.stored.set()
        return turn


IN_FLIGHT = 2
ATTEMPTS = 3
COLLECT_AFTER = 50_000
"""New objects between two collections of the youngest generation during an import (more
than the rows of the batches in flight)."""
