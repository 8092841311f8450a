"""Importing a Slack workspace export: the Slack channel's history (core.channels.history)."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.channels.history import BATCH_SIZE, HistoryReport, store_history
from core.runtime.bootstrap import Services
from core.slack.export import SlackExportError, SlackExportReader, SlackExportStats, day_files


@dataclass
class SlackImportReport(HistoryReport):
    stats: SlackExportStats = field(default_factory=SlackExportStats)


Progress = Callable[[SlackImportReport, int, int], None]
"""Called after each batch with the report so far, the day files read and their total."""


async def import_slack_export(
    services: Services,
    path: Path,
    *,
    classify: bool = True,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> SlackImportReport:
    """Store an export's messages (known ones skipped: a re-run adds only what is missing)
    and queue the new ones for classification; SlackExportError when it is no export."""
    reader = SlackExportReader(services.settings.max_text_bytes, classify)
    report = SlackImportReport(stats=reader.stats)
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise SlackExportError(
            "not a zip archive (Slack's export is the .zip it lets you download)"
        ) from None
    with archive:
        total = len(day_files(archive))
        shown = (lambda: progress(report, reader.days_read, total)) if progress else None
        await store_history(services, reader.read(archive), report, batch_size=batch_size, after_batch=shown)
    return report
