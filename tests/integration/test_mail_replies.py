"""Replies by email (TRACKER_EMAIL_REPLY_CRITICAL): a critical task accepted -> its reporter
gets one reply in the thread, sent to a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from email import message_from_bytes
from email.message import Message as Mail
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import Session, select

from core.config import Settings
from core.mail import acks
from core.mail.acks import acknowledge, follow_acceptances
from core.mail.parse import decoded
from core.models import Message, Priority
from core.runtime.bootstrap import Services
from core.runtime.embedded import free_port
from core.runtime.system import open_system
from core.schemas import MessageCreate, TaskCreate
from core.triage.commands import Decided, accept_task, change_task, create_task

SUPPORT = "support@example.com"
MAILBOX = "imap.example.com/INBOX"


class Inbox:
    """What the SMTP server received: (envelope recipients, the parsed email)."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], Mail]] = []
        self.arrived = threading.Condition()
        self.busy = 0
        """How many emails to answer "451 try again later" before taking one."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.busy > 0:
            self.busy -= 1
            return "451 4.3.0 Try again later"
        with self.arrived:
            self.received.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
            self.arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 30.0) -> list[tuple[list[str], Mail]]:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.received) >= count, timeout), "no reply arrived"
            return list(self.received)


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
async def services(settings: Settings, smtp: tuple[Inbox, int]) -> AsyncIterator[Services]:
    replying = settings.model_copy(
        update={"email_reply_critical": True, "email_smtp_url": f"smtp://127.0.0.1:{smtp[1]}",
                "email_imap_user": SUPPORT, "email_smtp_password": SecretStr("unused")}
    )  # fmt: skip
    with open_system(replying, migrate=False) as system:
        connected = await system.services()
        yield connected
        await connected.close()


def email(external_id: str, text: str, reply_to: str | None = None) -> MessageCreate:
    return MessageCreate(
        source="email", chat_id=MAILBOX, external_id=external_id, text=text, author_id="olena@example.org",
        author="Олена", reply_to_external_id=reply_to, thread_id="root-1@example.org",
        thread_title="Оплата не працює",
    )  # fmt: skip


async def reported_task(services: Services, *emails: MessageCreate, priority: Priority) -> int:
    ids = [r.message.id for r in await services.receive(list(emails))]
    data = TaskCreate(title="Payments fail", priority=priority, message_ids=[i for i in ids if i])
    task = await services.run(lambda session: create_task(session, data))
    assert task.id is not None
    return task.id


async def decide(services: Services, decision: Callable[[Session], Decided]) -> list[dict[str, Any]]:
    """The events a triage decision recorded (published too, as the API does)."""

    def decided(session: Session) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        recorded = decision(session)[1]
        return [e for e in recorded if e["type"] == "task.updated"], recorded

    return await services.run(decided)


async def test_an_accepted_critical_task_is_acknowledged_once_in_its_thread(
    services: Services, smtp: tuple[Inbox, int], engine: Engine
) -> None:
    inbox, _ = smtp
    before = len(inbox.received)
    root, reply = (
        email("root-1@example.org", "Payments fail"),
        email("r-2@example.org", "Still", "root-1@example.org"),
    )
    task = await reported_task(services, root, reply, priority=Priority.critical)
    subscription = await follow_acceptances(services)
    try:
        await services.run(lambda session: accept_task(session, task))
        [(recipients, sent)] = (await asyncio.to_thread(inbox.wait_for, before + 1))[before:]
    finally:
        await subscription.unsubscribe()
    assert recipients == ["olena@example.org"] and sent["From"] == SUPPORT
    assert (sent["In-Reply-To"], sent["References"]) == ("<root-1@example.org>", "<root-1@example.org>")
    assert (
        decoded(sent["Subject"]) == "Re: Оплата не працює"
        and f"task #{task}" in sent.get_payload(decode=True).decode()
    )
    assert sent["X-Tracker-Mailbox"] is None
    with Session(engine) as session:
        stored = session.exec(
            select(Message).where(Message.external_id == f"tracker-ack-{task}@example.com")
        ).one()
        parent = session.exec(select(Message).where(Message.external_id == "root-1@example.org")).one()
    assert stored.reply_to_id == parent.id and stored.status == "skipped"
    # another event saying it is accepted (a later edit): no second reply
    [changed] = await decide(
        services, lambda session: change_task(session, task, {"title": "Card payments fail"})
    )
    assert changed["payload"]["status"] == "accepted"
    assert not await acknowledge(services, changed) and len(inbox.received) == before + 1


async def test_only_critical_tasks_reported_by_email_are_acknowledged(
    services: Services, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    before = len(inbox.received)
    high = await reported_task(services, email("high-1@example.org", "Slow"), priority=Priority.high)
    chat = MessageCreate(source="telegram", chat_id="-100", external_id="7", text="Down!", author_id="1")
    from_chat = await reported_task(services, chat, priority=Priority.critical)
    for task in (high, from_chat):
        [accepted] = await decide(services, lambda session, t=task: accept_task(session, t))
        assert accepted["payload"]["status"] == "accepted"
        assert not await acknowledge(services, accepted)
    assert len(inbox.received) == before


async def test_a_server_that_says_try_again_later_gets_the_reply_on_a_later_try(
    services: Services, smtp: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, _ = smtp
    before = len(inbox.received)
    monkeypatch.setattr(acks, "RETRY_DELAYS", (0.1, 0.1))
    inbox.busy = 2
    task = await reported_task(services, email("busy-1@example.org", "Crash"), priority=Priority.critical)
    [accepted] = await decide(services, lambda session: accept_task(session, task))
    assert await acknowledge(services, accepted)
    assert inbox.busy == 0 and len(inbox.received) == before + 1, "sent on the third try, once"


async def test_an_smtp_server_that_cannot_be_reached_is_logged_not_raised(
    services: Services, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(acks, "RETRY_DELAYS", (0.1, 0.1))
    services.settings = services.settings.model_copy(
        update={"email_smtp_url": f"smtp://127.0.0.1:{free_port()}"}
    )
    task = await reported_task(services, email("down-1@example.org", "Crash"), priority=Priority.critical)
    [accepted] = await decide(services, lambda session: accept_task(session, task))
    assert not await acknowledge(services, accepted)
    assert f"for task {task} was not sent" in caplog.text
    assert caplog.text.count("trying again") == 2, "tried three times"
