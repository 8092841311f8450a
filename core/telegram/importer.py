"""Importing a Telegram Desktop export through core's ingestion, one committed batch at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from core.bootstrap import Services
from core.ingestion import Stored, store
from core.models import MessageStatus
from core.schemas import MessageIn
from core.telegram.export import CountingReader, ExportReader, ExportStats
from core.telegram.threads import inherit_threads

DEMO_EXPORT = Path(__file__).with_name("demo_export.json")


@dataclass
class ImportReport:
    stats: ExportStats = field(default_factory=ExportStats)
    stored: int = 0
    existing: int = 0
    queued: int = 0


Progress = Callable[[ImportReport, int], None]
"""Called after each batch with the report so far and the bytes read."""


async def import_export(
    services: Services,
    path: Path,
    *,
    classify: bool = True,
    batch_size: int = 2000,
    progress: Progress | None = None,
) -> ImportReport:
    """Store an export's messages (known ones are skipped) and queue them for classification.

    Each batch is committed on its own, so when the file turns out broken (ExportError,
    naming the position) everything before the error stays stored, and a re-run after
    the fix adds only the rest.
    """
    reader = ExportReader(services.settings.max_text_bytes, classify)
    pipeline = _Pipeline(services, ImportReport(reader.stats))
    batch: list[MessageIn] = []
    with path.open("rb") as raw:
        stream = CountingReader(raw)
        try:
            for item in reader.read(stream):
                batch.append(item)
                if len(batch) >= batch_size:
                    await pipeline.submit(batch)
                    batch = []
                    if progress:
                        progress(pipeline.report, stream.position)
        finally:  # what was read before an error is stored too
            await pipeline.finish(batch)
    if progress:
        progress(pipeline.report, stream.position)
    return pipeline.report


@dataclass
class _Pipeline:
    """One batch is stored while the next is read; queueing for classification (a round
    trip to NATS per job) runs alongside both."""

    services: Services
    report: ImportReport
    storing: asyncio.Task[None] | None = None
    queueing: list[asyncio.Task[None]] = field(default_factory=list)

    async def submit(self, batch: list[MessageIn]) -> None:
        if self.storing:
            await self.storing
        self.storing = asyncio.create_task(self._store(batch))
        await asyncio.sleep(0)  # let it reach its thread before reading on

    async def finish(self, batch: list[MessageIn]) -> None:
        if self.storing:
            await self.storing
        if batch:
            await self._store(batch)
        await asyncio.gather(*self.queueing)

    async def _store(self, items: list[MessageIn]) -> None:
        lease = self.services.settings.task_ack_wait
        stored = await self.services.run(lambda session: _store_batch(session, items, lease))
        created = [s for s in stored if s.created]
        queued: list[int | None] = [s.id for s in created if s.status == MessageStatus.pending]
        self.queueing = [task for task in self.queueing if not task.done()]
        self.queueing.append(asyncio.create_task(self.services.enqueue(queued)))
        self.report.stored += len(created)
        self.report.existing += len(stored) - len(created)
        self.report.queued += len(queued)


_BULK_SETTINGS = text(
    "SELECT set_config('synchronous_commit', 'off', true),"
    " set_config('gin_pending_list_limit', '65536', true)"  # kB, for this transaction
)


def _store_batch(session: Session, items: list[MessageIn], lease: float) -> tuple[list[Stored], list[Any]]:
    # A crash can lose at most the last batches, which a re-run adds again; the text
    # index takes bulk insertions into its pending list and sorts them in later.
    session.execute(_BULK_SETTINGS)
    stored, recorded = store(session, items, lease_seconds=lease)
    inherit_threads(session, sorted({s.id for s in stored if s.created}))
    return stored, recorded
