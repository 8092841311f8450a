"""The mailbox through core: its history in batches (core.channels.history), then each new
email as it arrives (core's live ingestion, so the dashboard shows it at once).

Every email is stored once by its Message-ID (a hash of its bytes when it has none), so
importing again, or following after an import, adds only what is new; and the last UID
stored is remembered (core.mail.state), so a restart fetches only mail that came after it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from core.channels.history import BATCH_SIZE, HistoryReport, row_of, store_history
from core.mail.mailbox import Fetched, Mailbox
from core.mail.parse import MalformedMail, parse_mail
from core.mail.state import read_up_to, remember
from core.messages.bulk import BulkRow
from core.runtime.bootstrap import Services
from core.schemas import MessageCreate

log = logging.getLogger("tracker.mail")
LISTED = 50


@dataclass
class MailStats:
    messages: int = 0
    malformed: int = 0
    """Emails that could not be stored (no sender, unstorable text): logged and skipped."""
    malformed_at: list[str] = field(default_factory=list)
    last_uid: int = 0


@dataclass
class MailImportReport(HistoryReport):
    stats: MailStats = field(default_factory=MailStats)


Progress = Callable[[MailImportReport, int, int], None]
"""Called after each batch with the report so far, the emails read and how many there are."""


def read_mail(mailbox: Mailbox, fetched: Iterable[Fetched], stats: MailStats) -> Iterator[MessageCreate]:
    """Each fetched email as a message; malformed ones are logged, counted and skipped."""
    for mail in fetched:
        stats.messages += 1
        stats.last_uid = max(stats.last_uid, mail.uid)
        try:
            yield parse_mail(mail.raw, mailbox.key, mailbox.title, mail.received)
        except (MalformedMail, ValidationError, ValueError) as exc:
            why = f"uid {mail.uid}: {_reason(exc)}"
            log.warning("malformed email skipped, nothing stored: %s", why)
            stats.malformed += 1
            if len(stats.malformed_at) < LISTED:
                stats.malformed_at.append(why)


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        return f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
    return str(exc)


async def import_mailbox(
    services: Services,
    mailbox: Mailbox,
    *,
    classify: bool = True,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
    again: bool = False,
) -> MailImportReport:
    """Store the emails of the mailbox after the last one read before (every one with
    `again`, or under a new UIDVALIDITY), in committed batches; remembers how far it read."""
    after = 0 if again else await _read_before(services, mailbox)
    report = MailImportReport(stats=MailStats(last_uid=after))
    uids = await asyncio.to_thread(mailbox.uids_after, after)
    messages = read_mail(mailbox, mailbox.fetch_ahead(uids), report.stats)
    rows = (_row(item, classify) for item in messages)
    shown = (lambda: progress(report, report.stats.messages, len(uids))) if progress else None
    await store_history(services, rows, report, batch_size=batch_size, after_batch=shown)
    await _remember(services, mailbox, report.stats.last_uid)
    return report


async def _read_before(services: Services, mailbox: Mailbox) -> int:
    return await services.run(lambda session: (read_up_to(session, mailbox.key, mailbox.uid_validity), []))


async def _remember(services: Services, mailbox: Mailbox, last_uid: int) -> None:
    """Every email up to `last_uid` is stored (or malformed, logged): a restart goes on after it."""

    def write(session: Session) -> tuple[None, list[dict[str, Any]]]:
        remember(session, mailbox.key, mailbox.uid_validity, last_uid)
        return None, []

    if last_uid:
        await services.run(write)


def _row(item: MessageCreate, classify: bool) -> BulkRow:
    if not classify:
        item.classify = False
    return row_of(item)


async def follow_mailbox(services: Services, mailbox: Mailbox, after_uid: int) -> None:
    """Store each email that arrives after `after_uid`, as it arrives; runs until cancelled
    (or the connection fails: the supervisor starts the follower again). Each look comes
    before the wait, and a server reports what arrived since its last answer when IDLE
    starts, so mail delivered in between is not left waiting for the next one."""
    last = after_uid
    while True:
        last = await _store_new(services, mailbox, last)
        await asyncio.to_thread(mailbox.wait, services.settings.email_poll_seconds)


async def _store_new(services: Services, mailbox: Mailbox, after_uid: int) -> int:
    """Store the emails above `after_uid` through live ingestion; returns the highest UID seen."""
    uids = await asyncio.to_thread(mailbox.uids_after, after_uid)
    if not uids:
        return after_uid
    stats = MailStats(last_uid=after_uid)
    fetched = await asyncio.to_thread(list, mailbox.fetch(uids))
    items = list(read_mail(mailbox, fetched, stats))
    if items:
        stored = await services.receive(items)
        log.info("%d new email(s) stored", sum(s.created for s in stored))
    await _remember(services, mailbox, stats.last_uid)
    return stats.last_uid
