"""Importing Telegram Desktop exports (built here) into real PostgreSQL, queued on real NATS."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import select
from typer.testing import CliRunner

from core.config import Settings
from core.db import Session
from core.messages.ingest import store
from core.models import Message, MessageStatus
from core.runtime.bootstrap import Services
from core.runtime.queue import stream_name
from core.runtime.system import open_system
from core.schemas import MessageCreate
from core.telegram.export import ExportError
from core.telegram.importer import DEMO_EXPORT, import_export
from services.cli import app
from services.cli.server_cmds import send_demo

SINGLE_ID = 1500000001
WHEN = 1_795_000_000


def msg(number: int, text: Any = "", **extra: Any) -> dict[str, Any]:
    """One exported message, shaped like Telegram Desktop writes it."""
    return {
        "id": number, "type": "message", "date": "2026-11-18T10:00:00",
        "date_unixtime": str(WHEN + number), "from": "Олена Коваль", "from_id": "user7001",
        "text": text, "text_entities": [],
    } | extra  # fmt: skip


def service(number: int, action: str, **extra: Any) -> dict[str, Any]:
    return {"id": number, "type": "service", "date": "2026-11-18T10:00:00", "date_unixtime": str(WHEN),
            "actor": "Ігор", "actor_id": "user7007", "action": action, "text": ""} | extra  # fmt: skip


def chat(messages: list[dict[str, Any]], chat_id: int = SINGLE_ID, **header: Any) -> dict[str, Any]:
    return (
        {"name": "Кошик · продукт", "type": "private_supergroup", "id": chat_id}
        | header
        | {"messages": messages}
    )


def write(tmp_path: Path, export: dict[str, Any] | list[Any], name: str = "result.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(export, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def in_chat(engine: Engine, chat_id: str) -> dict[str, Message]:
    with Session(engine) as session:
        found = session.exec(select(Message).where(Message.chat_id == chat_id)).all()
    return {m.external_id: m for m in found}


def _scalar(engine: Engine, sql: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(sql).scalar_one()


async def queued(services: Services) -> int:
    info = await services.nats.jetstream().stream_info(stream_name(services.settings))
    return int(info.state.messages)


async def test_single_chat_export(services: Services, engine: Engine, tmp_path: Path) -> None:
    chat_id = 1500000101
    export = chat(
        [
            msg(1, "Кнопка оплати не працює на iOS"),
            msg(
                2,
                [
                    "see ",
                    {"type": "link", "text": "https://status.koshyk.app"},
                    " і ",
                    {"type": "bold", "text": "терміново"},
                ],
            ),
            msg(3, "у меня тоже", reply_to_message_id=1, **{"from": "Сергей", "from_id": "user7003"}),
            msg(4, "Скрин", photo="(File not included.)", width=800, height=600),
            msg(5, "App crashes on the order screen", forwarded_from="Koshyk Support Bot"),
            msg(6, "", media_type="sticker", sticker_emoji="🍕"),
            msg(7, "reply to another chat", reply_to_message_id=99, reply_to_peer_id="channel42"),
        ],
        chat_id,
    )
    report = await import_export(services, write(tmp_path, export))
    rows = in_chat(engine, f"-100{chat_id}")
    assert (report.stats.chats, report.stored, report.existing) == (1, 7, 0)
    first, linked, reply, photo = rows["1"], rows["2"], rows["3"], rows["4"]
    assert (first.author, first.author_id, first.chat_title) == ("Олена Коваль", "7001", "Кошик · продукт")
    assert first.sent_at is not None and int(first.sent_at.timestamp()) == WHEN + 1
    assert linked.text == "see https://status.koshyk.app і терміново"
    assert reply.reply_to_id == first.id and reply.author == "Сергей"
    assert (photo.text, photo.media_kind) == ("Скрин", "photo")
    assert rows["5"].forwarded_from == "Koshyk Support Bot"
    assert (rows["6"].text, rows["6"].media_kind, rows["6"].status) == (
        "🍕",
        "sticker",
        MessageStatus.skipped,
    )
    assert rows["7"].reply_to_external_id is None
    assert report.queued == 6 and first.status == MessageStatus.pending


async def test_whole_account_export_imports_every_chat(
    services: Services, engine: Engine, tmp_path: Path
) -> None:
    export = {
        "about": "Here is the data you requested.",
        "personal_information": {"user_id": 7001, "first_name": "Олена", "phone_number": "+380 00 000 0000"},
        "contacts": {"about": "", "list": [{"first_name": "Dmytro", "phone_number": "+380"}]},
        "chats": {
            "about": "This page lists all chats from this export.",
            "list": [
                chat([msg(1, "пуші не приходять"), msg(2, "fixed", reply_to_message_id=1)], 1500000201),
                {"name": "Dmytro", "type": "personal_chat", "id": 7002, "messages": [msg(1, "привіт")]},
                chat([msg(1, "who has the App Store password?")], 555, type="private_group", name="Mobile"),
            ],
        },
    }
    report = await import_export(services, write(tmp_path, export))
    assert (report.stats.chats, report.stored) == (3, 4)
    team, personal, group = (
        in_chat(engine, "-1001500000201"),
        in_chat(engine, "7002"),
        in_chat(engine, "-555"),
    )
    assert team["2"].reply_to_id == team["1"].id and team["1"].chat_title == "Кошик · продукт"
    assert personal["1"].text == "привіт" and group["1"].chat_title == "Mobile"


async def test_service_messages_are_skipped_and_topics_kept(
    services: Services, engine: Engine, tmp_path: Path
) -> None:
    export = chat(
        [
            service(1, "invite_members", members=["Тарас"]),
            service(2, "topic_created", title="Реліз 2.4"),
            msg(3, "тест-план готов", reply_to_message_id=2),
            msg(4, "нашел регресс в промокоде", reply_to_message_id=3),
            msg(5, "фікшу", reply_to_message_id=4),
            service(6, "pin_message", message_id=3),
            service(
                7, "topic_edit", new_title="Реліз 2.4 ✅", reply_to_message_id=2
            ),  # one that names its topic
            msg(8, "вийшов!", reply_to_message_id=2),
            msg(9, "lunch?"),
        ],
        1500000301,
    )
    report = await import_export(services, write(tmp_path, export))
    rows = in_chat(engine, "-1001500000301")
    assert report.stats.skipped == 3 and set(rows) == {"2", "3", "4", "5", "8", "9"}
    assert (rows["2"].status, rows["2"].thread_title) == (MessageStatus.skipped, "Реліз 2.4")
    for number in ("3", "4", "5"):
        assert (rows[number].thread_id, rows[number].thread_title) == ("2", "Реліз 2.4")
    assert rows["3"].reply_to_external_id is None and rows["5"].reply_to_id == rows["4"].id
    assert rows["8"].thread_title == "Реліз 2.4 ✅" and rows["9"].thread_id is None


async def test_a_message_with_no_text_and_a_huge_message(
    services: Services, engine: Engine, tmp_path: Path
) -> None:
    limit = services.settings.max_text_bytes
    huge = "Лог помилки: " + "ж" * limit  # two bytes a letter: twice the limit
    export = chat([msg(1, huge), {"id": 2, "type": "message", "date_unixtime": str(WHEN)}], 1500000401)
    report = await import_export(services, write(tmp_path, export))
    rows = in_chat(engine, "-1001500000401")
    assert report.stats.truncated == 1
    assert len(rows["1"].text.encode()) <= limit and huge.startswith(rows["1"].text)
    assert (rows["2"].text, rows["2"].status, rows["2"].author) == ("", MessageStatus.skipped, None)


async def test_second_import_adds_nothing(services: Services, engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path, chat([msg(n, f"повідомлення {n}") for n in range(1, 121)], 1500000501))
    first = await import_export(services, path, batch_size=50)
    jobs = await queued(services)
    again = await import_export(services, path, batch_size=50)
    assert (first.stored, again.stored, again.existing, again.queued) == (120, 0, 120, 0)
    assert len(in_chat(engine, "-1001500000501")) == 120 and await queued(services) == jobs
    assert 1 < jobs <= 120 / 50 * 2  # classification queued in batches, not one job a message


async def test_no_classify_only_stores(services: Services, engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path, chat([msg(n, "checkout fails") for n in range(1, 6)], 1500000601))
    report = await import_export(services, path, classify=False)
    assert (report.stored, report.queued, await queued(services)) == (5, 0, 0)
    assert {m.status for m in in_chat(engine, "-1001500000601").values()} == {MessageStatus.skipped}


async def test_truncated_file_stops_at_the_position_and_a_rerun_adds_the_rest(
    services: Services, engine: Engine, tmp_path: Path
) -> None:
    export = chat([msg(n, f"задача номер {n}: оновити залежності") for n in range(1, 501)], 1500000701)
    full = json.dumps(export, ensure_ascii=False).encode()
    path = tmp_path / "result.json"
    path.write_bytes(full[: int(len(full) * 0.7)])
    with pytest.raises(ExportError) as broken:
        await import_export(services, path, batch_size=100)
    message = str(broken.value)
    assert f"the file ends at byte {path.stat().st_size:,}" in message and "cut short" in message
    assert "after message #" in message and "'Кошик · продукт'" in message
    kept = len(in_chat(engine, "-1001500000701"))
    assert 300 <= kept < 500  # every batch before the break, and the messages read before it

    path.write_bytes(full)
    rerun = await import_export(services, path, batch_size=100)
    assert (rerun.stored, rerun.existing) == (500 - kept, kept)
    assert len(in_chat(engine, "-1001500000701")) == 500


async def test_each_batch_is_announced_by_one_event(
    services: Services, engine: Engine, tmp_path: Path
) -> None:
    chat_id = 1500001101
    path = write(tmp_path, chat([msg(n, f"повідомлення {n}") for n in range(1, 121)], chat_id))
    report = await import_export(services, path, batch_size=50)
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT type, payload FROM events WHERE payload -> 'chat_ids' ? :chat ORDER BY seq"),
            {"chat": f"-100{chat_id}"},
        ).all()
    assert [kind for kind, _ in found] == ["messages.imported"] * 3
    assert [payload["count"] for _, payload in found] == [50, 50, 20] and report.stored == 120
    ids = sorted(m.id or 0 for m in in_chat(engine, f"-100{chat_id}").values())
    assert (found[0][1]["first_id"], found[-1][1]["last_id"]) == (ids[0], ids[-1])
    assert sum(payload["pending"] for _, payload in found) == report.queued == 120


async def test_replies_stored_before_their_parent_are_linked_by_the_import(
    services: Services, engine: Engine, tmp_path: Path
) -> None:
    chat_id = 1500001201
    live = MessageCreate(
        source="telegram", chat_id=f"-100{chat_id}", external_id="50", text="+1, у мене теж",
        reply_to_external_id="5",
    )  # fmt: skip
    await services.receive([live])  # the bot saw the reply; its parent is older than the bot
    export = chat(
        [service(1, "topic_created", title="Оплати"), msg(5, "оплата карткою падає", reply_to_message_id=1)],
        chat_id,
    )
    await import_export(services, write(tmp_path, export))
    rows = in_chat(engine, f"-100{chat_id}")
    assert rows["50"].reply_to_id == rows["5"].id
    assert (rows["50"].thread_id, rows["50"].thread_title) == ("1", "Оплати")  # its parent's topic


async def test_a_parent_stored_meanwhile_by_someone_else(
    services: Services, engine: Engine, tmp_path: Path
) -> None:
    """The bot stores a message while the import inserts the same one: the import skips it,
    and its replies point at the bot's row (the batch is inserted again)."""
    chat_id = 1500001301
    path = write(tmp_path, chat([msg(1, "з експорту"), msg(2, "відповідь", reply_to_message_id=1)], chat_id))
    bot = Session(engine)
    store(bot, [MessageCreate(source="telegram", chat_id=f"-100{chat_id}", external_id="1", text="від бота")])
    importing = asyncio.create_task(import_export(services, path))
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'transactionid' AND query LIKE '%bulk_messages%'"
    )
    deadline = time.monotonic() + 60  # until the import waits for the bot's transaction
    while not _scalar(engine, waiting):
        if time.monotonic() > deadline:
            pytest.fail("the import never waited for the bot's insert")
        await asyncio.sleep(0.025)
    bot.commit()
    bot.close()
    report = await importing
    rows = in_chat(engine, f"-100{chat_id}")
    assert (report.stored, report.existing) == (1, 1) and rows["1"].text == "від бота"
    assert rows["2"].reply_to_id == rows["1"].id


@pytest.mark.parametrize(
    ("chat_id", "bad", "field"),
    [
        (1500000801, {"id": "three"}, "'id' must be an integer"),
        (1500000802, {"text": 42}, "'text' must be a string or an array"),
        (1500000803, {"text": ["ok ", {"type": "bold", "text": 7}]}, "'text' array items"),
        (1500000804, {"from": ["Олена"]}, "'from' must be a string"),
        (1500000805, {"date_unixtime": None, "date": "yesterday"}, "'date' must be an ISO date"),
        (1500000806, {"poll": {"question": "?", "answers": "так"}}, "'poll' options must be an array"),
    ],
    ids=["id", "text", "entity", "from", "date", "poll"],
)
async def test_a_message_that_cannot_be_understood_is_skipped_and_named(
    services: Services, engine: Engine, tmp_path: Path, chat_id: int, bad: dict[str, Any], field: str
) -> None:
    messages = [msg(n, f"text {n}") for n in range(1, 6)]
    broken = [*messages[:2], messages[2] | bad, *messages[3:]]
    report = await import_export(services, write(tmp_path, chat(broken, chat_id)))
    assert set(in_chat(engine, f"-100{chat_id}")) == {"1", "2", "4", "5"} and report.stats.unreadable == 1
    (where,) = report.stats.unreadable_at
    assert where.startswith("message #3 of chat 'Кошик · продукт' (id ") and field in where


@pytest.mark.parametrize(
    "export",
    [[1, 2, 3], {"name": "x", "messages": {"1": "a"}}, {"about": "no chats"}],
    ids=["array", "messages-not-a-list", "nothing"],
)
async def test_not_an_export(services: Services, tmp_path: Path, export: Any) -> None:
    with pytest.raises(ExportError, match="not a Telegram Desktop export"):
        await import_export(services, write(tmp_path, export))


def test_demo_command_imports_the_demo_chat(settings: Settings, engine: Engine) -> None:
    with open_system(settings, migrate=False) as system:
        send_demo(system)  # what `tracker demo` runs once the system is up
    rows = in_chat(engine, "-1001987654321")
    assert len(rows) >= 280
    assert sum(1 for m in rows.values() if m.status == MessageStatus.pending) > 200  # queued


async def test_demo_chat_is_a_realistic_multilingual_team_chat(services: Services, engine: Engine) -> None:
    report = await import_export(services, DEMO_EXPORT)  # already there: adds nothing
    rows = list(in_chat(engine, "-1001987654321").values())
    assert 280 <= report.stats.messages <= 320 and report.stored == 0 and len(rows) == report.existing
    text = " ".join(m.text for m in rows)
    assert all(letter in text for letter in "їєі") and all(letter in text for letter in "ыэ")
    assert sum(1 for m in rows if m.text.isascii() and m.text) > 40  # English
    days = {m.sent_at.date() for m in rows if m.sent_at}
    assert len(days) >= 3 and len({m.author for m in rows}) >= 6
    assert sum(1 for m in rows if m.reply_to_id) > 60
    topic = [m for m in rows if m.thread_title]
    assert len(topic) > 10 and any(m.reply_to_id for m in topic)
    assert any(m.media_kind == "photo" and m.text for m in rows) and any(m.forwarded_from for m in rows)


def cli_env(settings: Settings) -> dict[str, str]:
    return {
        "TRACKER_DATABASE_URL": settings.database_url or "",
        "TRACKER_NATS_URL": settings.nats_url or "",
        "TRACKER_QUEUE_NAME": settings.queue_name,
        "TRACKER_DATA_DIR": str(settings.data_dir),
    }


def test_cli_import_and_its_error(settings: Settings, engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path, chat([msg(1, "a"), msg(2, "b", reply_to_message_id=1)], 1500000901))
    runner = CliRunner()
    done = runner.invoke(app, ["import", "telegram", str(path), "--no-classify"], env=cli_env(settings))
    assert done.exit_code == 0, done.output
    assert "2 new messages" in done.output and "0 queued" in done.output
    assert set(in_chat(engine, "-1001500000901")) == {"1", "2"}

    path.write_text(path.read_text()[:-40])
    failed = runner.invoke(app, ["import", "telegram", str(path)], env=cli_env(settings))
    assert failed.exit_code == 1 and "the file ends at byte" in failed.output
    assert "Export the chat again" in failed.output and "run the same command" in failed.output


def test_cli_lists_what_it_could_not_understand(settings: Settings, tmp_path: Path) -> None:
    messages = [msg(1, "a"), msg(2, "b", date_unixtime="99999999999999"), msg(3, 7), msg(4, "d")]
    path = write(tmp_path, chat(messages, 1500000902))
    done = CliRunner().invoke(app, ["import", "telegram", str(path), "--no-classify"], env=cli_env(settings))
    assert done.exit_code == 0 and "2 new messages" in done.output
    assert "2 message(s) could not be understood and were skipped:" in done.output
    assert "message #2 of chat 'Кошик · продукт' (id 2), near byte" in done.output
    assert "message #3 of chat 'Кошик · продукт' (id 3), near byte" in done.output


def test_cli_bot_needs_a_token(settings: Settings) -> None:
    result = CliRunner().invoke(app, ["bot"], env=cli_env(settings) | {"TELEGRAM_BOT_TOKEN": None})
    assert result.exit_code == 1 and "TELEGRAM_BOT_TOKEN" in result.output
