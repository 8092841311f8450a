"""The Telegram bot: the real aiogram Bot against a stand-in Bot API server over HTTP,
updates fed through the Dispatcher, the bot process and the running API's webhook,
stored in real PostgreSQL and queued on real NATS."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import col, select

from core.classification.types import Classification, MessageInput, Outcome
from core.config import Settings
from core.db import Session
from core.models import Kind, Label, Message, MessageStatus, Priority, Task, TaskMessage, TaskStatus
from core.runtime.queue import stream_name
from core.runtime.system import open_system
from core.telegram.bot import TelegramApp
from core.telegram.webhook import SECRET_HEADER, WEBHOOK_PATH
from core.triage.pipeline import classify_messages, load_due
from services.bot.main import run_bot
from services.bot.notify import notify_critical
from tests.support.classifiers import ScriptedClassifier
from tests.support.processes import api_process
from tests.support.telegram_api import (
    DMYTRO,
    OLENA,
    TEAM,
    TOKEN,
    StandInTelegram,
    bot_added,
    message,
    stand_in_telegram,
    update,
)

OTHER = {"id": -1009999999999, "type": "supergroup", "title": "Someone else's chat"}
QA = {"id": -1001234567000, "type": "supergroup", "title": "QA"}
PRIVATE = {"id": OLENA["id"], "type": "private", "first_name": OLENA["first_name"]}
CHAT = str(TEAM["id"])
PHOTO = [{"file_id": "p1", "file_unique_id": "u1", "width": 90, "height": 90}]
WAIT = 60.0  # generous: a loaded 2-core machine slows every step; a passing test never waits it out


@pytest.fixture
def telegram_api() -> Iterator[StandInTelegram]:
    with stand_in_telegram() as stand_in:
        yield stand_in


@pytest.fixture
def bot_settings(settings: Settings, telegram_api: StandInTelegram) -> Settings:
    return settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(TOKEN),
            "telegram_api_url": telegram_api.url,
            "telegram_chats": [TEAM["id"], QA["id"]],
        }
    )


@pytest.fixture
async def tg(bot_settings: Settings) -> AsyncIterator[TelegramApp]:
    with open_system(bot_settings, migrate=False) as system:
        services = await system.services()
        app = TelegramApp.create(services)
        yield app
        await app.close()
        await services.close()


async def feed(tg: TelegramApp, **kinds: Any) -> dict[str, Any]:
    """Send one update through the Dispatcher; returns the message it carried."""
    await tg.dispatcher.feed_raw_update(tg.bot, update(**kinds))
    return next(iter(kinds.values()))


def stored(engine: Engine, sent: dict[str, Any]) -> Message | None:
    with Session(engine) as session:
        return session.exec(
            select(Message).where(
                Message.chat_id == str(sent["chat"]["id"]), Message.external_id == str(sent["message_id"])
            )
        ).first()


def rows(engine: Engine, model: Any, *where: Any) -> list[Any]:
    with Session(engine) as session:
        return list(session.exec(select(model).where(*where)).all())


def task_of(engine: Engine, message_id: int) -> Task | None:
    with Session(engine) as session:
        return session.exec(
            select(Task)
            .join(TaskMessage, col(TaskMessage.task_id) == Task.id)
            .where(TaskMessage.message_id == message_id, TaskMessage.role == "source")
        ).first()


async def queued(tg: TelegramApp) -> int:
    """Classification jobs waiting on the JetStream queue."""
    info = await tg.services.nats.jetstream().stream_info(stream_name(tg.services.settings))
    return int(info.state.messages)


async def classify(tg: TelegramApp, ids: list[int], classifier: Any = None) -> None:
    """What the worker does with a queued job."""
    services = tg.services
    await classify_messages(
        ids,
        engine=services.engine,
        settings=services.settings,
        classifier=classifier or ScriptedClassifier(),
        publish=services.publish,
    )


async def eventually(check: Callable[[], Any]) -> Any:
    """The first truthy result of `check`, polled for up to WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if result := check():
            return result
        await asyncio.sleep(0.05)
    raise AssertionError(f"condition not met in {WAIT} s")


def texts(api: StandInTelegram) -> list[str]:
    return [call["text"] for call in api.sent()]


# --- 2. what is ingested ----------------------------------------------------------------


async def test_message_is_stored_with_chat_author_time_and_queued(tg: TelegramApp, engine: Engine) -> None:
    before = await queued(tg)
    sent = await feed(tg, message=message("checkout fails after the update", user=DMYTRO))
    row = stored(engine, sent)
    assert row is not None and row.source == "telegram" and row.chat_title == TEAM["title"]
    assert (row.author, row.author_id, row.text) == ("Dmytro", str(DMYTRO["id"]), sent["text"])
    assert row.sent_at is not None and int(row.sent_at.timestamp()) == sent["date"]
    assert row.status == MessageStatus.pending
    assert await queued(tg) == before + 1
    await feed(tg, message=sent)  # Telegram redelivers: still one row
    assert len(rows(engine, Message, Message.external_id == str(sent["message_id"]))) == 1


async def test_edit_updates_text_keeps_edit_time_and_reclassifies_task(
    tg: TelegramApp, engine: Engine
) -> None:
    sent = await feed(tg, message=message("the CSV export fails for big shops"))
    first = stored(engine, sent)
    assert first is not None and first.id is not None
    await classify(tg, [first.id])
    task = task_of(engine, first.id)
    assert task is not None and task.kind == Kind.bug
    before = await queued(tg)

    edited = sent | {"text": "how do I export only one month to CSV?", "edit_date": sent["date"] + 90}
    await feed(tg, edited_message=edited)
    row = stored(engine, sent)
    assert row is not None and row.text == edited["text"] and row.revision == 2
    assert row.edited_at is not None and int(row.edited_at.timestamp()) == edited["edit_date"]
    assert row.status == MessageStatus.pending and await queued(tg) == before + 1

    await classify(tg, [first.id])
    updated = task_of(engine, first.id)
    assert updated is not None and updated.id == task.id
    assert updated.kind == Kind.question and updated.version > task.version


async def test_edit_of_a_message_sent_before_the_bot_came_stores_it(tg: TelegramApp, engine: Engine) -> None:
    old = message("додайте фільтр за датою")
    await feed(tg, edited_message=old | {"edit_date": old["date"] + 5})
    row = stored(engine, old)
    assert row is not None and row.text == old["text"]


async def test_caption_is_the_text_and_media_kind_is_noted(tg: TelegramApp, engine: Engine) -> None:
    photo = await feed(tg, message=message(None, caption="Скрин: кнопка оплаты серая", photo=PHOTO))
    row = stored(engine, photo)
    assert row is not None and (row.text, row.media_kind) == ("Скрин: кнопка оплаты серая", "photo")
    assert row.status == MessageStatus.pending
    sticker = {"file_id": "s", "file_unique_id": "su", "type": "regular", "width": 512, "height": 512,
               "is_animated": False, "is_video": False}  # fmt: skip
    bare = await feed(tg, message=message(None, sticker=sticker))
    row = stored(engine, bare)
    assert row is not None and (row.text, row.media_kind, row.status) == (
        "",
        "sticker",
        MessageStatus.skipped,
    )


async def test_reply_is_linked_and_parent_text_is_the_classifier_context(
    tg: TelegramApp, engine: Engine
) -> None:
    parent = await feed(tg, message=message("push notifications do not arrive on Android 14"))
    reply = await feed(tg, message=message("у меня тоже", user=DMYTRO, reply_to_message=parent))
    parent_row, reply_row = stored(engine, parent), stored(engine, reply)
    assert parent_row is not None and reply_row is not None
    assert reply_row.reply_to_id == parent_row.id and reply_row.reply_to_external_id == str(
        parent["message_id"]
    )
    with Session(engine) as session:
        [due] = load_due(session, [reply_row.id or 0])
    assert due.input.reply_to == parent["text"]


async def test_forum_topic_gives_thread_id_and_title(tg: TelegramApp, engine: Engine) -> None:
    root = message(
        None, forum_topic_created={"name": "Реліз 2.4", "icon_color": 7322096}, is_topic_message=True
    )
    root["message_thread_id"] = root["message_id"]
    await feed(tg, message=root)
    topic = {"message_thread_id": root["message_id"], "is_topic_message": True}
    first = await feed(tg, message=message("Тест-план готов", reply_to_message=root, **topic))
    deeper = await feed(tg, message=message("Ой, фікшу", user=DMYTRO, reply_to_message=first, **topic))
    creation, first_row, deeper_row = stored(engine, root), stored(engine, first), stored(engine, deeper)
    assert creation is not None and creation.status == MessageStatus.skipped
    assert first_row is not None and deeper_row is not None
    assert (first_row.thread_id, first_row.thread_title) == (str(root["message_id"]), "Реліз 2.4")
    assert first_row.reply_to_external_id is None  # the topic itself is not a message it answers
    assert (deeper_row.thread_id, deeper_row.thread_title) == (str(root["message_id"]), "Реліз 2.4")
    assert deeper_row.reply_to_id == first_row.id


async def test_forwarded_message_keeps_its_origin(tg: TelegramApp, engine: Engine) -> None:
    origins = {
        "Dmytro": {"type": "user", "date": 1_799_000_000, "sender_user": DMYTRO},
        "Koshyk News": {"type": "channel", "date": 1_799_000_000, "message_id": 7,
                        "chat": {"id": -1005550000000, "type": "channel", "title": "Koshyk News"}},
        "Анонім": {"type": "hidden_user", "date": 1_799_000_000, "sender_user_name": "Анонім"},
    }  # fmt: skip
    for name, origin in origins.items():
        sent = await feed(tg, message=message("App crashes on the orders screen", forward_origin=origin))
        row = stored(engine, sent)
        assert row is not None and row.forwarded_from == name


async def test_service_messages_are_not_stored_or_classified(tg: TelegramApp, engine: Engine) -> None:
    before = await queued(tg)
    pinned = message("pin me")
    joined = await feed(tg, message=message(None, new_chat_members=[DMYTRO]))
    pin = await feed(tg, message=message(None, pinned_message=pinned))
    renamed = await feed(tg, message=message(None, new_chat_title="Кошик · продукт"))
    assert [stored(engine, m) for m in (joined, pin, renamed)] == [None, None, None]
    assert await queued(tg) == before


# --- 3. allowlist -----------------------------------------------------------------------


async def test_other_chats_are_not_stored_and_told_their_id_once(
    tg: TelegramApp, engine: Engine, telegram_api: StandInTelegram
) -> None:
    await tg.dispatcher.feed_raw_update(tg.bot, bot_added(OTHER))
    [notice] = telegram_api.sent()
    assert int(notice["chat_id"]) == OTHER["id"]
    assert str(OTHER["id"]) in notice["text"] and "TRACKER_TELEGRAM_CHATS" in notice["text"]
    sent = await feed(tg, message=message("checkout fails", chat=OTHER))
    await feed(tg, edited_message=sent | {"text": "checkout fails on iOS", "edit_date": sent["date"] + 1})
    await feed(tg, message=message("/status", chat=OTHER))
    assert stored(engine, sent) is None
    assert len(telegram_api.sent()) == 1  # said once, then silent


async def test_added_to_a_served_chat_it_says_hello(tg: TelegramApp, telegram_api: StandInTelegram) -> None:
    await tg.dispatcher.feed_raw_update(tg.bot, bot_added(TEAM))
    [hello] = telegram_api.sent()
    assert int(hello["chat_id"]) == TEAM["id"] and "/help" in hello["text"]


# --- 4. commands ------------------------------------------------------------------------


async def test_start_and_help(tg: TelegramApp, engine: Engine, telegram_api: StandInTelegram) -> None:
    help_message = await feed(tg, message=message("/help"))
    await feed(tg, message=message("/start", chat=PRIVATE))
    served, private = texts(telegram_api)
    assert all(command in served for command in ("/status", "/tasks", "/track", "/ignore"))
    assert str(PRIVATE["id"]) in private and "not enabled" in private
    assert stored(engine, help_message) is None  # commands are not chat content


async def test_track_makes_the_replied_message_an_accepted_task_and_a_label(
    tg: TelegramApp, engine: Engine, telegram_api: StandInTelegram
) -> None:
    target = await feed(tg, message=message("треба оновити SSL сертифікат до п'ятниці"))
    await feed(tg, message=message("/track bug", user=DMYTRO, reply_to_message=target))
    row = stored(engine, target)
    assert row is not None and row.id is not None
    task = task_of(engine, row.id)
    assert task is not None and task.chat_id == CHAT
    assert (task.kind, task.status) == (Kind.bug, TaskStatus.accepted)
    [label] = rows(engine, Label, Label.message_id == row.id)
    assert (label.origin, label.action, label.kind, label.author) == ("bot", "track", Kind.bug, "Dmytro")
    assert f"#{task.id}" in texts(telegram_api)[-1]
    await classify(tg, [row.id])  # the classifier later says "noise": the human decision stands
    assert len(rows(engine, TaskMessage, TaskMessage.message_id == row.id)) == 1
    after = task_of(engine, row.id)
    assert after is not None and (after.kind, after.status) == (Kind.bug, TaskStatus.accepted)


async def test_track_without_kind_accepts_the_classified_task(tg: TelegramApp, engine: Engine) -> None:
    target = await feed(tg, message=message("please add dark mode"))
    row = stored(engine, target)
    assert row is not None and row.id is not None
    await classify(tg, [row.id])
    opened = task_of(engine, row.id)
    assert opened is not None and opened.kind == Kind.task and opened.status == TaskStatus.new
    await feed(tg, message=message("/track", reply_to_message=target))
    task = task_of(engine, row.id)
    assert task is not None and task.id == opened.id and task.status == TaskStatus.accepted
    assert [label.action for label in rows(engine, Label, Label.message_id == row.id)] == ["track"]


async def test_track_needs_a_reply_and_a_known_kind(tg: TelegramApp, telegram_api: StandInTelegram) -> None:
    target = await feed(tg, message=message("something"))
    await feed(tg, message=message("/track"))
    await feed(tg, message=message("/track urgent", reply_to_message=target))
    await feed(tg, message=message("/ignore"))
    no_reply, bad_kind, no_reply_ignore = texts(telegram_api)
    assert "Reply to a message with /track" in no_reply and "'urgent'" in bad_kind
    assert "/ignore" in no_reply_ignore


async def test_ignore_rejects_the_task_and_labels_noise(tg: TelegramApp, engine: Engine) -> None:
    target = await feed(tg, message=message("the promo code fails twice"))
    row = stored(engine, target)
    assert row is not None and row.id is not None
    await classify(tg, [row.id])
    await feed(tg, message=message("/ignore", user=DMYTRO, reply_to_message=target))
    task = task_of(engine, row.id)
    assert task is not None and task.status == TaskStatus.rejected
    [label] = rows(engine, Label, Label.message_id == row.id)
    assert (label.origin, label.kind, label.author) == ("bot", Kind.noise, "Dmytro")


async def test_ignore_before_classification_keeps_it_from_being_classified(
    tg: TelegramApp, engine: Engine
) -> None:
    target = await feed(tg, message=message("checkout fails (just kidding)"))
    await feed(tg, message=message("/ignore", reply_to_message=target))
    row = stored(engine, target)
    assert row is not None and row.id is not None and row.status == MessageStatus.skipped
    [label] = rows(engine, Label, Label.message_id == row.id)
    assert (label.action, label.kind, label.origin) == ("ignore", Kind.noise, "bot")
    await classify(tg, [row.id])
    assert task_of(engine, row.id) is None


async def test_status_and_tasks_list_this_chats_open_tasks(
    tg: TelegramApp, engine: Engine, telegram_api: StandInTelegram
) -> None:
    await feed(tg, message=message("/status", chat=QA))
    for text, kind in [("a", "bug"), ("b", "bug"), ("c", "feature"), ("d", "question"), ("e", "task")]:
        target = await feed(tg, message=message(f"item {text}", chat=QA))
        await feed(tg, message=message(f"/track {kind}", chat=QA, reply_to_message=target))
    await feed(tg, message=message("/ignore", chat=QA, reply_to_message=target))  # item e: rejected
    telegram_api.calls.clear()
    await feed(tg, message=message("/status", chat=QA))
    await feed(tg, message=message("/tasks", chat=QA))
    await feed(tg, message=message("/status", chat=TEAM))
    status, top, elsewhere = texts(telegram_api)
    assert status.splitlines() == [
        "Open tasks in this chat: 4",
        "bug: 2 (🟡 medium 2)",
        "feature: 1 (🟡 medium 1)",
        "question: 1 (🟡 medium 1)",
    ]
    assert top.startswith("Top open tasks:") and len(top.splitlines()) == 5 and "item e" not in top
    assert "Open tasks in this chat: 4" not in elsewhere


@dataclass
class CriticalClassifier:
    name: str = "critical"

    async def classify(self, messages: list[MessageInput]) -> list[Outcome]:
        result = Classification(
            kind=Kind.bug, priority=Priority.critical, title="Prod is down", confidence=0.95
        )
        return [Outcome(result=result, classifier=self.name) for _ in messages]


async def test_critical_task_is_announced_in_the_chat_when_enabled(
    tg: TelegramApp, engine: Engine, telegram_api: StandInTelegram
) -> None:
    assert Settings().telegram_notify_critical is False  # off unless asked for
    subscription = await notify_critical(tg)
    try:
        sent = await feed(tg, message=message("прод лежить, ніхто не може оплатити"))
        row = stored(engine, sent)
        assert row is not None and row.id is not None
        await classify(tg, [row.id], CriticalClassifier())
        notice = await eventually(lambda: telegram_api.sent())
    finally:
        await subscription.unsubscribe()
    assert int(notice[0]["chat_id"]) == TEAM["id"] and "Prod is down" in notice[0]["text"]
    assert json.loads(notice[0]["reply_parameters"])["message_id"] == sent["message_id"]


# --- 1. the bot process: long polling, webhook registration; the API's webhook ----------


async def test_bot_process_long_polls_and_stores(
    bot_settings: Settings, engine: Engine, telegram_api: StandInTelegram
) -> None:
    stop = asyncio.Event()
    running = asyncio.create_task(run_bot(bot_settings, stop))
    try:
        sent = message("рейтинг в Google Play упал до 4.4")
        telegram_api.push(update(message=sent))
        row = await eventually(lambda: stored(engine, sent))
    finally:
        stop.set()
        await asyncio.wait_for(running, WAIT)
    assert row.text == sent["text"]
    assert telegram_api.sent("deleteWebhook") and telegram_api.sent("getUpdates")


async def test_webhook_mode_registers_the_webhook_with_a_secret(
    bot_settings: Settings, telegram_api: StandInTelegram
) -> None:
    url = "https://tracker.example.org" + WEBHOOK_PATH
    stop = asyncio.Event()
    running = asyncio.create_task(
        run_bot(bot_settings.model_copy(update={"telegram_webhook_url": url}), stop)
    )
    try:
        [registered] = await eventually(lambda: telegram_api.sent("setWebhook"))
    finally:
        stop.set()
        await asyncio.wait_for(running, WAIT)
    generated = (bot_settings.runtime_dir / "telegram_webhook_secret").read_text().strip()
    assert registered["url"] == url and registered["secret_token"] == generated and len(generated) >= 32
    assert "message" in json.loads(registered["allowed_updates"])
    assert not telegram_api.sent("getUpdates")


def test_api_webhook_needs_the_secret(
    bot_settings: Settings, engine: Engine, telegram_api: StandInTelegram
) -> None:
    secret = "s3cret-for-the-webhook_0123456789"
    api = api_process(
        bot_settings,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TRACKER_TELEGRAM_API_URL=telegram_api.url,
        TRACKER_TELEGRAM_CHATS=f"{OTHER['id']},{TEAM['id']}",  # the comma-separated form
        TRACKER_TELEGRAM_WEBHOOK_URL="https://tracker.example.org" + WEBHOOK_PATH,
        TRACKER_TELEGRAM_WEBHOOK_SECRET=secret,
    )
    with api as url, httpx.Client(base_url=url, timeout=WAIT) as client:
        refused = message("webhook without the secret")
        for headers in ({}, {SECRET_HEADER: "wrong"}):
            response = client.post(WEBHOOK_PATH, json=update(message=refused), headers=headers)
            assert response.status_code == 401, response.text
        assert stored(engine, refused) is None

        accepted = message("webhook with the secret: export fails", user=DMYTRO)
        response = client.post(WEBHOOK_PATH, json=update(message=accepted), headers={SECRET_HEADER: secret})
        assert response.status_code == 200, response.text
        row = stored(engine, accepted)
        assert row is not None and row.author == "Dmytro"

        for junk in ({"json": [1, 2]}, {"content": b"not json"}):
            response = client.post(WEBHOOK_PATH, headers={SECRET_HEADER: secret}, **junk)  # type: ignore[arg-type]
            assert response.status_code == 422 and response.json()["detail"][0]["field"] == "body"

        client.post(WEBHOOK_PATH, json=update(message=message("/help")), headers={SECRET_HEADER: secret})
        assert any("/track" in text for text in texts(telegram_api))  # the API's dispatcher answered


async def test_a_discussion_through_the_dispatcher_is_one_task_and_status_counts_tasks(
    tg: TelegramApp, engine: Engine, telegram_api: StandInTelegram
) -> None:
    status = message("/status", chat=QA)
    when = status["date"] + 60  # days after the module's earlier messages, like every message's date
    await feed(tg, message=status)
    before = _open_count(texts(telegram_api)[-1])
    report = await feed(tg, message=message("checkout fails on submit since 2.4", chat=QA, date=when))
    said = [
        await feed(tg, message=message("+1", chat=QA, user=DMYTRO, date=when + 60, reply_to_message=report)),
        await feed(tg, message=message("беру, гляну зараз", chat=QA, user=DMYTRO, date=when + 120,
                                       reply_to_message=report)),
        await feed(tg, message=message("дякую!", chat=QA, date=when + 180, reply_to_message=report)),
    ]  # fmt: skip
    ids = [row.id for row in (stored(engine, m) for m in [report, *said]) if row is not None and row.id]
    for message_id in ids:  # as the worker takes them, one job each
        await classify(tg, [message_id])
    task = task_of(engine, ids[0])
    assert task is not None and (task.status, task.assignee, task.reporters) == ("in_progress", "Dmytro", 2)
    assert (
        sorted(link.message_id for link in rows(engine, TaskMessage, TaskMessage.task_id == task.id)) == ids
    )
    telegram_api.calls.clear()
    await feed(tg, message=message("/status", chat=QA, date=when + 240))
    assert _open_count(texts(telegram_api)[-1]) == before + 1  # four messages, one task


def _open_count(status: str) -> int:
    first = status.splitlines()[0]
    return int(first.rsplit(":", 1)[1]) if first.startswith("Open tasks") else 0
