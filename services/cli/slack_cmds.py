"""`tracker import slack EXPORT.zip`: a Slack workspace's history in."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from core.config import Settings
from core.runtime.system import System, open_system
from core.slack.export import SlackExportError
from core.slack.importer import SlackImportReport, import_slack_export
from services.cli.importing import Shown, counted_progress, fail, import_app


@import_app.command("slack")
def import_slack(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The export zip Slack gives")],
    no_classify: Annotated[
        bool, typer.Option("--no-classify", help="Only store the messages; they are never classified")
    ] = False,
) -> None:
    """Import a Slack workspace export (one folder per channel, one JSON file per day).

    Known messages are skipped, so the import can be run again with a newer export; messages
    Slack also sends live (TRACKER_SLACK_CHANNELS) are the same messages, stored once.
    """
    with open_system(Settings()) as system, counted_progress("day files") as shown:
        try:
            report = asyncio.run(_import(system, path, not no_classify, shown))
        except SlackExportError as exc:
            raise fail(f"{path}: {exc}") from None
    typer.echo(summary(report, path))


async def _import(system: System, path: Path, classify: bool, shown: Shown | None) -> SlackImportReport:
    services = await system.services()
    try:
        progress = (lambda r, done, total: shown(done, total, r.stored, r.existing)) if shown else None
        return await import_slack_export(services, path, classify=classify, progress=progress)
    finally:
        await services.close()


def summary(report: SlackImportReport, path: Path) -> str:
    """What the import did, and where it could not read."""
    stats = report.stats
    line = (
        f"{path.name}: {stats.channels} channel(s), {stats.days:,} day(s), {report.stored:,} new messages; "
        f"{report.existing:,} already stored; {stats.skipped:,} bot and service messages skipped; "
        f"{report.queued:,} queued for classification"
    )
    if stats.truncated:
        line += f"; {stats.truncated:,} over-long texts cut to TRACKER_MAX_TEXT_BYTES"
    lines = [line]
    if stats.unreadable:
        lines.append(f"{stats.unreadable:,} day file(s) or message(s) could not be read and were skipped:")
        lines += [f"  {where}" for where in stats.unreadable_at]
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    """The command joins `tracker import` (registered with the Telegram commands)."""
