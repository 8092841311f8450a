"""Optional replies by email (TRACKER_EMAIL_REPLY_CRITICAL, off by default): when a person
accepts a critical task whose report came by email, its sender gets a short reply in the
same thread (In-Reply-To, References), sent through TRACKER_EMAIL_SMTP_URL.

Each reply is first stored as a message of the mailbox, under a Message-ID made from the
task, and sent only when that store was new: a task is acknowledged once however many
events say it is accepted, and the reply shows in the task's conversation. A send that
fails for a passing reason (the server unreachable or disconnected, a 4xx answer such as
"451 try again later") is tried again after 1 s and 5 s; one that fails for good (a 5xx
answer, a refused login, a wrong URL) or fails all three times is logged with the reason and
not tried again.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from nats.aio.subscription import Subscription
from sqlalchemy import text
from sqlmodel import Session

from core import events
from core.config import Settings
from core.db import session_scope
from core.mail import SOURCE
from core.mail.smtp import send_mail
from core.models import Priority, TaskStatus
from core.runtime.bootstrap import Services
from core.runtime.queue import events_subject
from core.schemas import MessageCreate

log = logging.getLogger("tracker.mail")
RETRY_DELAYS = (1.0, 5.0)
"""Seconds before the second and third try of a reply that failed for a passing reason."""
_REPORT = text(
    """
    SELECT m.chat_id, m.chat_title, m.external_id, m.author_id, m.thread_id, m.thread_title,
           m.reply_to_external_id
    FROM task_messages tm JOIN messages m ON m.id = tm.message_id
    WHERE tm.task_id = :task AND m.source = :source AND m.author_id LIKE '%@%'
    ORDER BY m.sent_at NULLS LAST, m.id LIMIT 1
    """
)


def acknowledgement(session: Session, settings: Settings, event: dict[str, Any]) -> EmailMessage | None:
    """The reply to send for an event saying a critical task is accepted, when its report
    (the task's first email) came by email; None for every other event."""
    task = event.get("payload") or {}
    if event.get("type") != events.TASK_UPDATED or task.get("status") != TaskStatus.accepted:
        return None
    sender = settings.email_from or settings.email_imap_user or ""
    if task.get("priority") != Priority.critical or "@" not in sender:
        return None
    report = session.execute(_REPORT, {"task": task.get("id"), "source": SOURCE}).first()
    if report is None:
        return None
    mail = EmailMessage()
    mail["From"], mail["To"] = sender, report.author_id
    mail["Subject"] = f"Re: {report.thread_title or task.get('title') or 'your report'}"
    mail["Message-ID"] = f"<tracker-ack-{task['id']}@{sender.rsplit('@', 1)[1]}>"
    mail["In-Reply-To"] = f"<{report.external_id}>"
    thread = [report.thread_id, report.reply_to_external_id, report.external_id]
    mail["References"] = " ".join(f"<{i}>" for i in dict.fromkeys(thread) if i)
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail["X-Tracker-Mailbox"] = report.chat_id  # where the reply is stored; removed before sending
    mail.set_content(
        f"Thank you for your report. We are treating it as critical: task #{task['id']}, "
        f'"{task.get("title") or ""}".\n\n-- \n{sender}\n'
    )
    return mail


def as_message(mail: EmailMessage) -> MessageCreate:
    """The reply as a message of its mailbox, in the report's thread (not classified)."""
    own, parent = (str(mail[h]).strip("<>") for h in ("Message-ID", "In-Reply-To"))
    references = str(mail["References"]).split()
    return MessageCreate(
        source=SOURCE, chat_id=str(mail["X-Tracker-Mailbox"]), external_id=own,
        text=str(mail.get_content()).split("\n-- \n")[0].strip(), author_id=str(mail["From"]).lower(),
        author=str(mail["From"]), sent_at=datetime.now(UTC), reply_to_external_id=parent,
        thread_id=references[0].strip("<>"), thread_title=str(mail["Subject"]).removeprefix("Re: "),
        classify=False,
    )  # fmt: skip


async def acknowledge(services: Services, event: dict[str, Any]) -> bool:
    """Send the acknowledgement an event calls for, once; True when one was sent."""

    def build() -> EmailMessage | None:
        with session_scope(services.engine) as session:
            return acknowledgement(session, services.settings, event)

    mail = await asyncio.to_thread(build)
    if mail is None:
        return False
    [stored] = await services.receive([as_message(mail)])
    if not stored.created:
        return False
    del mail["X-Tracker-Mailbox"]
    for delay in (*RETRY_DELAYS, None):
        try:
            await asyncio.to_thread(send_mail, services.settings, mail)
        except OSError as exc:  # smtplib's errors are OSErrors: refused, unreachable, timed out
            if delay is None or not _passing(exc):
                log.error(
                    "the reply to %s for task %s was not sent: %s", mail["To"], event["payload"]["id"], exc
                )
                return False
            log.warning("the reply to %s failed (%s), trying again in %.0f s", mail["To"], exc, delay)
            await asyncio.sleep(delay)
        else:
            log.info("replied to %s: task %s accepted as critical", mail["To"], event["payload"]["id"])
            return True
    return False


def _passing(error: OSError) -> bool:
    """A failure worth another try: no connection, or the server's 4xx "not now"."""
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    return not isinstance(error, smtplib.SMTPException) or isinstance(error, smtplib.SMTPServerDisconnected)


async def follow_acceptances(services: Services) -> Subscription:
    """Acknowledge each critical task accepted from now on, from the events on NATS."""

    async def on_events(msg: Any) -> None:
        for event in events.decode(msg.data):
            try:
                await acknowledge(services, event)
            except Exception:  # one bad event must not stop the replies to the next
                log.exception("could not acknowledge event %s", event.get("seq"))

    return await services.nats.subscribe(events_subject(services.settings), cb=on_events)
