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
from core.telegram.export import CountingReader, ExportError, ExportReader, ExportStats
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
    the fix adds only the rest. The next batch is read while the previous one is stored.
    """
    reader = ExportReader(services.settings.max_text_bytes, classify)
    report = ImportReport(reader.stats)
    storing: asyncio.Task[None] | None = None
    batch: list[MessageIn] = []
    with path.open("rb") as raw:
        stream = CountingReader(raw)
        try:
            for item in reader.read(stream):
                batch.append(item)
                if len(batch) >= batch_size:
                    if storing:
                        await storing
                    storing = asyncio.create_task(_store(services, batch, report))
                    await asyncio.sleep(0)  # let it reach its thread before reading on
                    batch = []
                    if progress:
                        progress(report, stream.position)
        except ExportError:
            await _finish(services, storing, batch, report)
            raise
        await _finish(services, storing, batch, report)
    if progress:
        progress(report, stream.position)
    return report


async def _finish(
    services: Services, storing: asyncio.Task[None] | None, batch: list[MessageIn], report: ImportReport
) -> None:
    if storing:
        await storing
    if batch:
        await _store(services, batch, report)


async def _store(services: Services, items: list[MessageIn], report: ImportReport) -> None:
    lease = services.settings.task_ack_wait
    stored = await services.run(lambda session: _store_batch(session, items, lease))
    created = [s for s in stored if s.created]
    queued = [s.id for s in created if s.status == MessageStatus.pending]
    await services.enqueue(list(queued))
    report.stored += len(created)
    report.existing += len(stored) - len(created)
    report.queued += len(queued)


def _store_batch(session: Session, items: list[MessageIn], lease: float) -> tuple[list[Stored], list[Any]]:
    # A crash can lose at most the last batches, which a re-run adds again; the text
    # index takes bulk insertions into its pending list and sorts them in later.
    session.execute(text("SET LOCAL synchronous_commit = off"))
    session.execute(text("SET LOCAL gin_pending_list_limit = '64MB'"))
    stored, recorded = store(session, items, lease_seconds=lease)
    inherit_threads(session, sorted({s.id for s in stored if s.created}))
    return stored, recorded
