"""`python -m services.mail`: import the mailbox's history, then store new emails as they arrive;
with TRACKER_EMAIL_REPLY_CRITICAL, reply to the senders of critical tasks people accept."""

from __future__ import annotations

import asyncio
import logging

from nats.aio.subscription import Subscription

from core.config import Settings
from core.mail.acks import follow_acceptances
from core.mail.importer import follow_mailbox, import_mailbox
from core.mail.mailbox import Mailbox
from core.runtime.bootstrap import Services
from core.runtime.system import open_system

log = logging.getLogger("tracker.mail")


async def main(settings: Settings) -> None:
    with open_system(settings, migrate=False) as system:
        services = await system.services()
        mailbox = await asyncio.to_thread(Mailbox, system.settings)
        replies = await _replies(services)
        try:
            report = await import_mailbox(services, mailbox)
            counts = (report.stored, report.existing, report.stats.malformed)
            log.info("mailbox %s: %d new, %d known, %d malformed; following it", mailbox.title, *counts)
            await follow_mailbox(services, mailbox, report.stats.last_uid)
        finally:
            if replies is not None:
                await replies.unsubscribe()
            mailbox.close()
            await services.close()


async def _replies(services: Services) -> Subscription | None:
    settings = services.settings
    if not settings.email_reply_critical:
        return None
    if not settings.email_smtp_url:
        log.warning("TRACKER_EMAIL_REPLY_CRITICAL is on but TRACKER_EMAIL_SMTP_URL is not set: no replies")
        return None
    return await follow_acceptances(services)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(main(Settings()))
