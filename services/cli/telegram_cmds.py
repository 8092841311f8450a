"""`tracker bot` and `tracker import telegram PATH`: Telegram in and history in."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from datetime import tzinfo
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from core.config import Settings
from core.runtime.system import System, open_system
from core.telegram.export import ExportError, local_zone, zone_named
from core.telegram.importer import DEMO_EXPORT, ImportReport, import_export
from core.telegram.importer import Progress as OnProgress
from services.cli import server_cmds
from services.cli.importing import fail, import_app

console = Console(stderr=True)
BROKEN_ADVICE = (
    "Messages before that point are stored. Export the chat again with Telegram Desktop "
    "(Settings > Advanced > Export Telegram data, format JSON) and run the same command with "
    "the new result.json: only the messages not stored yet will be added."
)


def bot() -> None:
    """Run the Telegram bot alone (long polling; webhook mode with TRACKER_TELEGRAM_WEBHOOK_URL)."""
    token = Settings().telegram_bot_token
    if token is None or not token.get_secret_value():
        raise fail("TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and export its token")
    raise typer.Exit(server_cmds.run_parts(["bot"]))


_TIMEZONE = typer.Option(
    "--timezone",
    metavar="ZONE",
    help="Time zone of the computer that made the export (e.g. Europe/Kyiv), for exports older than "
    "mid-2022, which hold local times only; default: this machine's",
)
_INCLUDE_LEFT = typer.Option("--include-left", help="Also import the chats an account export lists as left")


@import_app.command("telegram")
def import_telegram(
    path: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="result.json from Telegram Desktop's export")
    ],
    no_classify: Annotated[
        bool, typer.Option("--no-classify", help="Only store the messages; they are never classified")
    ] = False,
    timezone: Annotated[str | None, _TIMEZONE] = None,
    include_left: Annotated[bool, _INCLUDE_LEFT] = False,
) -> None:
    """Import a Telegram Desktop export of one chat or of a whole account (chats.list).

    Known messages are skipped, so the import can be run again (after a fix, or with a newer
    export). New messages are queued for classification unless --no-classify.
    """
    options: dict[str, Any] = {"classify": not no_classify, "zone": _zone(timezone)}
    options["include_left"] = include_left
    with open_system(Settings()) as system:
        try:
            report = asyncio.run(_import(system, path, show_progress=True, **options))
        except ExportError as exc:
            raise fail(f"{path}: {exc}\n{BROKEN_ADVICE}") from None
    typer.echo(summary(report, path))


def _zone(name: str | None) -> tzinfo:
    """The zone named on the command line, or this machine's."""
    try:
        return zone_named(name) if name else local_zone()
    except ValueError as exc:
        raise fail(str(exc)) from None


def import_demo(system: System) -> ImportReport:
    """The bundled demo chat, imported through core (what `tracker demo` shows)."""
    return asyncio.run(_import(system, DEMO_EXPORT, classify=True, show_progress=False))


def summary(report: ImportReport, path: Path) -> str:
    """What the import did, one line per fact worth a look."""
    stats = report.stats
    parts = [
        f"{path.name}: {stats.chats} chat(s), {report.stored:,} new messages",
        f"{report.existing:,} already stored",
        f"{stats.skipped:,} service messages skipped",
        f"{report.queued:,} queued for classification",
    ]
    if stats.unsupported:
        parts.append(f"{stats.unsupported:,} messages Telegram Desktop could not export (unsupported)")
    if stats.truncated:
        parts.append(f"{stats.truncated:,} over-long texts cut to TRACKER_MAX_TEXT_BYTES")
    if stats.left_chats_skipped:
        parts.append(f"{stats.left_chats_skipped:,} left chat(s) skipped (--include-left imports them)")
    if stats.local_times:
        parts.append(f"times read as {stats.zone} (the export has local times only; see --timezone)")
    lines = ["; ".join(parts)]
    if stats.unreadable:
        lines.append(f"{stats.unreadable:,} message(s) could not be understood and were skipped:")
        lines += [f"  {where}" for where in stats.unreadable_at]
        if stats.unreadable > len(stats.unreadable_at):
            lines.append(f"  … and {stats.unreadable - len(stats.unreadable_at):,} more")
    return "\n".join(lines)


async def _import(
    system: System, path: Path, *, classify: bool, show_progress: bool, **options: Any
) -> ImportReport:
    services = await system.services()
    try:
        with _progress(path, show_progress) as progress:
            return await import_export(services, path, classify=classify, progress=progress, **options)
    finally:
        await services.close()


@contextlib.contextmanager
def _progress(path: Path, wanted: bool) -> Iterator[OnProgress | None]:
    """A progress bar over the file's bytes, on a terminal."""
    if not (wanted and console.is_terminal):
        yield None
        return
    columns = (
        TextColumn("importing"), BarColumn(), DownloadColumn(),
        TextColumn("{task.fields[stored]:,} new, {task.fields[existing]:,} known"), TimeRemainingColumn(),
    )  # fmt: skip
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("import", total=path.stat().st_size, stored=0, existing=0)
        yield lambda report, position: bar.update(
            task, completed=position, stored=report.stored, existing=report.existing
        )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `tracker` app."""
    app.command()(bot)
    app.add_typer(import_app, name="import")
