"""`tracker bot` and `tracker import telegram PATH`: Telegram in and history in."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from core.config import Settings
from core.db import migrate
from core.runtime.bootstrap import connect
from core.runtime.embedded import resolved_settings, servers
from core.telegram.export import ExportError
from core.telegram.importer import DEMO_EXPORT, ImportReport, import_export
from core.telegram.importer import Progress as OnProgress

console = Console(stderr=True)
import_app = typer.Typer(help="Bring chat history in.", no_args_is_help=True)


def bot() -> None:
    """Run the Telegram bot alone (long polling; webhook mode with TRACKER_TELEGRAM_WEBHOOK_URL)."""
    from services.bot.main import run_bot

    token = Settings().telegram_bot_token
    if token is None or not token.get_secret_value():
        raise _fail("TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and export its token")
    with _system(Settings()) as settings:
        asyncio.run(run_bot(settings))


@import_app.command("telegram")
def import_telegram(
    path: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="result.json from Telegram Desktop's export")
    ],
    no_classify: Annotated[
        bool, typer.Option("--no-classify", help="Only store the messages; they are never classified")
    ] = False,
) -> None:
    """Import a Telegram Desktop export of one chat or of a whole account (chats.list).

    Known messages are skipped, so the import can be run again (after a fix, or with a newer
    export). New messages are queued for classification unless --no-classify.
    """
    with _system(Settings()) as settings:
        try:
            report = asyncio.run(_import(settings, path, classify=not no_classify, show_progress=True))
        except ExportError as exc:
            raise _fail(
                f"{path}: {exc}\nMessages before that point are stored. Fix the file and run the same "
                "command again: only the rest will be added."
            ) from None
    typer.echo(summary(report, path))


def import_demo(settings: Settings) -> ImportReport:
    """The bundled demo chat, imported through core (what `tracker demo` shows)."""
    return asyncio.run(_import(settings, DEMO_EXPORT, classify=True, show_progress=False))


def summary(report: ImportReport, path: Path) -> str:
    stats = report.stats
    parts = [
        f"{path.name}: {stats.chats} chat(s), {report.stored:,} new messages",
        f"{report.existing:,} already stored",
        f"{stats.skipped:,} service messages skipped",
        f"{report.queued:,} queued for classification",
    ]
    if stats.truncated:
        parts.append(f"{stats.truncated:,} over-long texts cut to TRACKER_MAX_TEXT_BYTES")
    return "; ".join(parts)


@contextlib.contextmanager
def _system(settings: Settings) -> Iterator[Settings]:
    """PostgreSQL (migrated) and NATS for one command: the configured ones, or the data dir's."""
    with servers(settings) as running:
        migrate(running.database_url)
        yield resolved_settings(settings, running)


async def _import(settings: Settings, path: Path, *, classify: bool, show_progress: bool) -> ImportReport:
    services = await connect(settings)
    try:
        with _progress(path, show_progress) as progress:
            return await import_export(services, path, classify=classify, progress=progress)
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


def _fail(message: str, code: int = 1) -> typer.Exit:
    console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `tracker` app."""
    app.command()(bot)
    app.add_typer(import_app, name="import")
