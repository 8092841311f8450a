"""`python -m services.mail`: import the mailbox's history, then store new emails as they arrive."""

from __future__ import annotations

import asyncio
import logging

from core.config import Settings
from core.mail.importer import follow_mailbox, import_mailbox
from core.mail.mailbox import Mailbox
from core.runtime.system import open_system

log = logging.getLogger("tracker.mail")


async def main(settings: Settings) -> None:
    with open_system(settings, migrate=False) as system:
        services = await system.services()
        mailbox = await asyncio.to_thread(Mailbox, system.settings)
        try:
            report = await import_mailbox(services, mailbox)
            counts = (report.stored, report.existing, report.stats.malformed)
            log.info("mailbox %s: %d new, %d known, %d malformed; following it", mailbox.title, *counts)
            await follow_mailbox(services, mailbox, report.stats.last_uid)
        finally:
            mailbox.close()
            await services.close()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(main(Settings()))
