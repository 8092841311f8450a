"""Importing a Telegram Desktop export: the Telegram channel's history (core.channels.history)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path

from core.channels.history import BATCH_SIZE, HistoryReport, store_history
from core.runtime.bootstrap import Services
from core.telegram.export import CountingReader, ExportReader, ExportStats, local_zone

DEMO_EXPORT = Path(__file__).with_name("demo_export.json")


@dataclass
class ImportReport(HistoryReport):
    stats: ExportStats = field(default_factory=ExportStats)


Progress = Callable[[ImportReport, int], None]
"""Called after each batch with the report so far and the bytes read."""


async def import_export(
    services: Services,
    path: Path,
    *,
    classify: bool = True,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
    zone: tzinfo | None = None,
    include_left: bool = False,
) -> ImportReport:
    """Store an export's messages (known ones are skipped) and queue them for classification.

    `zone` reads the local times of exports older than mid-2022 (default: this machine's);
    `include_left` imports the chats a whole-account export lists as left. Each batch is
    committed on its own, so when the file turns out broken (ExportError, naming the
    position) everything before stays stored, and a re-run adds only the rest.
    """
    reader = ExportReader(services.settings.max_text_bytes, classify, zone or local_zone(), include_left)
    report = ImportReport(stats=reader.stats)
    with path.open("rb") as raw:
        stream = CountingReader(raw)
        shown = (lambda: progress(report, stream.position)) if progress else None
        await store_history(services, reader.read(stream), report, batch_size=batch_size, after_batch=shown)
    return report
