"""Email benchmark: a mailbox on a local Dovecot imported as history, then followed live.

    uv run python -m evals.bench_mail [--messages 10000] [--live 20]

Starts Debian's Dovecot (apt-get install dovecot-imapd) on a free loopback port, places
`--messages` emails in its INBOX with IMAP APPEND (plain and multipart, UTF-8 and KOI8-R,
a third of them replies with quoted history), imports the mailbox through core on embedded
PostgreSQL and NATS and prints emails stored per second (target: >= 1,000/s), then imports
again twice: as a restart does (only mail after the last UID read) and with --again (every
email read, none stored twice); then follows
the mailbox (IDLE) and delivers `--live` more one at a time, printing how long each took from
delivery to being stored (target: within 5 s).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import Engine, text

from core.mail.importer import follow_mailbox, import_mailbox
from core.mail.mailbox import Mailbox
from core.runtime.system import System
from evals.bench_import import TEXTS
from evals.dovecot import PASSWORD, USER, ImapServer, dovecot
from evals.harness import embedded_system

QUOTE = (
    "\r\n\r\nOn Mon, Nov 30, 2026 at 9:15 AM Olena <olena@example.com> wrote:\r\n> earlier text\r\n> more\r\n"
)


def email(number: int, rnd: random.Random) -> bytes:
    """One email: a new thread, or a reply (a third) quoting its parent."""
    parent = number - rnd.randint(1, 20) if number > 20 and rnd.random() < 0.33 else None
    refs = (
        f"In-Reply-To: <m{parent}@example.com>\r\nReferences: <m{parent}@example.com>\r\n" if parent else ""
    )
    koi8 = rnd.random() < 0.1
    body = f"{rnd.choice(TEXTS)} #{number}" + (QUOTE if parent else "\r\n\r\n--\r\nSupport desk\r\n")
    head = (
        f"From: User {number % 50} <user{number % 50}@example.com>\r\nTo: support@example.com\r\n"
        f"Subject: Issue {number}\r\nDate: Tue, 1 Dec 2026 10:00:00 +0200\r\n"
        f"Message-ID: <m{number}@example.com>\r\n"
        f"{refs}MIME-Version: 1.0\r\nContent-Type: text/plain; charset={'koi8-r' if koi8 else 'utf-8'}\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    )
    return head.encode("ascii") + body.encode("koi8-r" if koi8 else "utf-8", errors="replace")


def mailbox_settings(system: System, imap: ImapServer) -> System:
    system.settings = system.settings.model_copy(
        update={
            "email_imap_url": imap.url,
            "email_imap_user": USER,
            "email_imap_password": SecretStr(PASSWORD),
        }
    )
    return system


async def history(system: System, again: bool = False) -> tuple[int, int, float, int]:
    """Stored, malformed, seconds, emails read."""
    services = await system.services()
    mailbox = Mailbox(system.settings)
    try:
        start = time.perf_counter()
        report = await import_mailbox(services, mailbox, again=again)
        seconds = time.perf_counter() - start
        return report.stored, report.stats.malformed, seconds, report.stats.messages
    finally:
        mailbox.close()
        await services.close()


async def live(system: System, imap: ImapServer, count: int, first: int) -> list[float]:
    """Seconds from each delivery (APPEND answered) to the row being stored."""
    services = await system.services()
    mailbox = Mailbox(system.settings)
    following = asyncio.create_task(
        follow_mailbox(services, mailbox, await asyncio.to_thread(_last_uid, mailbox))
    )
    latencies = []
    try:
        for number in range(first, first + count):
            await asyncio.to_thread(imap.append, [email(number, random.Random(number))])
            delivered = time.perf_counter()
            await _stored(system.engine, f"m{number}@example.com")
            latencies.append(time.perf_counter() - delivered)
    finally:
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
        mailbox.close()
        await services.close()
    return latencies


def _last_uid(mailbox: Mailbox) -> int:
    return max(mailbox.uids_after(0), default=0)


async def _stored(engine: Engine, external_id: str) -> None:
    query = text("SELECT count(*) FROM messages WHERE source = 'email' AND external_id = :id")
    async with asyncio.timeout(30):
        while True:
            with engine.connect() as conn:
                if conn.execute(query, {"id": external_id}).scalar_one():
                    return
            await asyncio.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--live", type=int, default=20)
    args = parser.parse_args()
    rnd = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="tracker-mail-") as tmp, dovecot(Path(tmp)) as imap:
        start = time.perf_counter()
        imap.append([email(n, rnd) for n in range(1, args.messages + 1)])
        print(f"placed {args.messages:,} emails with IMAP APPEND in {time.perf_counter() - start:.1f} s")
        with embedded_system() as system:
            mailbox_settings(system, imap)
            load = os.getloadavg()[0]
            stored, malformed, seconds, _ = asyncio.run(history(system))
            print(f"load average before the import: {load:.2f} ({os.cpu_count()} cores)")
            rate = stored / seconds
            print(f"history: {stored:,} stored ({malformed} malformed) in {seconds:.1f} s = {rate:,.0f}/s")
            restart = asyncio.run(history(system))
            print(f"restart (import again): {restart[3]} emails read, {restart[0]} new, {restart[2]:.1f} s")
            again = asyncio.run(history(system, again=True))
            print(f"import --again: {again[3]:,} emails read, {again[0]} new, {again[2]:.1f} s")
            latencies = asyncio.run(live(system, imap, args.live, args.messages + 1))
            median, worst = statistics.median(latencies), max(latencies)
            print(
                f"live: {len(latencies)} emails, delivery to stored: median {median:.2f} s, max {worst:.2f} s"
            )


if __name__ == "__main__":
    main()
