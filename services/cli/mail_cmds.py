"""`tracker import email`: the support mailbox's history in (then `tracker up` follows it)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from imapclient.exceptions import IMAPClientError

from core.config import Settings
from core.mail.importer import MailImportReport, import_mailbox
from core.mail.mailbox import Mailbox
from core.runtime.system import System, open_system
from services.cli.importing import Shown, counted_progress, fail, import_app


@import_app.command("email")
def import_email(
    no_classify: Annotated[
        bool, typer.Option("--no-classify", help="Only store the messages; they are never classified")
    ] = False,
    again: Annotated[
        bool, typer.Option("--again", help="Read every email again, not only those after the last one read")
    ] = False,
) -> None:
    """Import the emails of TRACKER_EMAIL_IMAP_URL's mailbox (read-only: nothing is marked read).

    Only mail after the last email read before is fetched (all of it the first time, or when
    the server renumbered the folder); each email is stored once by its Message-ID, so the
    import can be run again; `tracker up` then stores new mail as it arrives.
    """
    settings = Settings()
    if not settings.email_imap_url:
        raise fail("TRACKER_EMAIL_IMAP_URL is not set: imaps://imap.example.com/INBOX (and _USER, _PASSWORD)")
    with open_system(settings) as system, counted_progress("emails") as shown:
        try:
            report = asyncio.run(_import(system, not no_classify, again, shown))
        except (IMAPClientError, OSError, ValueError) as exc:
            raise fail(f"the mailbox could not be read: {exc}") from None
    typer.echo(summary(report))


async def _import(system: System, classify: bool, again: bool, shown: Shown | None) -> MailImportReport:
    mailbox = await asyncio.to_thread(Mailbox, system.settings)
    services = await system.services()
    try:
        progress = (lambda r, done, total: shown(done, total, r.stored, r.existing)) if shown else None
        return await import_mailbox(services, mailbox, classify=classify, progress=progress, again=again)
    finally:
        mailbox.close()
        await services.close()


def summary(report: MailImportReport) -> str:
    stats = report.stats
    lines = [
        f"{stats.messages:,} emails read: {report.stored:,} new messages; "
        f"{report.existing:,} already stored; {report.queued:,} queued for classification"
    ]
    if stats.malformed:
        lines.append(f"{stats.malformed:,} malformed email(s) skipped, nothing stored for them:")
        lines += [f"  {where}" for where in stats.malformed_at]
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    """The command joins `tracker import` (registered with the Telegram commands)."""
