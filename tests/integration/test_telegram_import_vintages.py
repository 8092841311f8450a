"""Every vintage of Telegram Desktop's JSON export imports (issue 12), from the fixture exports
in tests/fixtures/telegram (written in the shape of each vintage of the writer, our own text).

Each test gets a database of its own: the fixtures share chats on purpose."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select
from typer.testing import CliRunner

from core.config import Settings
from core.models import Message, MessageStatus
from core.runtime.bootstrap import Services
from core.runtime.system import open_system
from core.telegram.importer import ImportReport, import_export
from services.cli import app
from tests.conftest import create_database
from tests.integration.test_telegram_import import cli_env

FIXTURES = Path(__file__).parents[1] / "fixtures" / "telegram"
KYIV = ZoneInfo("Europe/Kyiv")
TEAM = "-1001300000001"


@pytest.fixture
async def fresh(settings: Settings, postgres_server_url: str) -> AsyncIterator[Services]:
    """Services on a database of this test's own."""
    own = settings.model_copy(update={"database_url": create_database(postgres_server_url)})
    with open_system(own, migrate=False) as system:
        connected = await system.services()
        yield connected
        await connected.close()


def engine_of(services: Services) -> Engine:
    return services.engine


def rows_of(services: Services, chat_id: str) -> dict[str, Message]:
    with Session(engine_of(services)) as session:
        found = session.exec(select(Message).where(Message.chat_id == chat_id)).all()
    return {m.external_id: m for m in found}


async def load(services: Services, name: str, *, include_left: bool = False) -> ImportReport:
    return await import_export(services, FIXTURES / name, zone=KYIV, include_left=include_left)


@pytest.mark.parametrize(
    ("name", "stored", "skipped", "unsupported"),
    [
        ("2018_group.json", 2, 1, 0),
        ("2019_supergroup.json", 5, 1, 0),
        ("2020_supergroup.json", 5, 0, 0),
        ("2021_migrated_group.json", 4, 3, 0),
        ("2023_account.json", 6, 1, 0),
        ("2023_forum.json", 7, 2, 0),
        ("2024_supergroup.json", 5, 0, 1),
        ("2025_kinds.json", 17, 1, 1),
    ],
)
async def test_every_fixture_imports_exactly_and_once(
    fresh: Services, name: str, stored: int, skipped: int, unsupported: int
) -> None:
    first = await load(fresh, name)
    stats = first.stats
    assert (first.stored, stats.skipped, stats.unsupported, stats.unreadable) == (
        stored,
        skipped,
        unsupported,
        0,
    )
    assert stats.messages == stored + skipped + unsupported
    again = await load(fresh, name)
    assert (again.stored, again.existing, again.queued) == (0, stored, 0)


async def test_old_and_new_exports_of_one_chat_give_one_chat(fresh: Services) -> None:
    """2019 (ids with type offsets, integer senders), 2020 (peer ids as senders) and 2024
    (bare ids, `user…` senders) exports of one supergroup, overlapping: one chat, no copies."""
    reports = [await load(fresh, f"{year}_supergroup.json") for year in (2019, 2020, 2024)]
    assert [(r.stored, r.existing) for r in reports] == [(5, 0), (3, 2), (3, 2)]
    with engine_of(fresh).connect() as conn:
        chats = conn.execute(text("SELECT DISTINCT chat_id FROM messages")).scalars().all()
    assert chats == [TEAM]  # the id the bot sees for this supergroup
    rows = rows_of(fresh, TEAM)
    assert sorted(rows, key=int) == ["10", "11", "12", "14", "15", "16", "17", "18", "19", "20", "22"]
    assert {rows[n].author_id for n in ("10", "16", "19")} == {"7001"}  # bare, user+2**32, user7001
    assert rows["17"].author_id == "-1001400000002"  # a channel's post: channel+2**33, channel…
    assert rows["11"].reply_to_id == rows["10"].id


async def test_exports_without_unix_times_are_read_in_the_named_zone(fresh: Services) -> None:
    report = await load(fresh, "2019_supergroup.json")
    rows = rows_of(fresh, TEAM)
    assert rows["10"].sent_at == datetime(2019, 3, 4, 8, 15, tzinfo=UTC)  # 10:15 in Kyiv (winter, +2)
    assert (report.stats.zone, report.stats.local_times > 0) == ("Europe/Kyiv", True)
    migrated = await load(fresh, "2021_migrated_group.json")
    summer = rows_of(fresh, "-1001600000001")["2"].sent_at
    assert summer == datetime(2021, 9, 2, 7, 5, tzinfo=UTC) and migrated.stats.local_times > 0  # +3
    modern = await load(fresh, "2024_supergroup.json")
    assert modern.stats.local_times == 0  # date_unixtime wins
    assert rows_of(fresh, TEAM)["20"].sent_at == datetime(2024, 5, 6, 7, 10, tzinfo=UTC)


async def test_edits_are_kept(fresh: Services) -> None:
    await load(fresh, "2019_supergroup.json")  # `edited` on every message, the epoch if never
    await load(fresh, "2024_supergroup.json")  # `edited_unixtime`
    rows = rows_of(fresh, TEAM)
    assert rows["11"].edited_at == datetime(2019, 3, 4, 8, 25, 30, tzinfo=UTC)
    assert rows["10"].edited_at is None and rows["19"].edited_at is None
    assert rows["20"].edited_at == datetime(2024, 5, 6, 7, 12, tzinfo=UTC)


async def test_every_entity_keeps_its_meaning(fresh: Services) -> None:
    await load(fresh, "2019_supergroup.json")
    await load(fresh, "2024_supergroup.json")
    rows = rows_of(fresh, TEAM)
    assert rows["11"].text == "у мене теж, дивись лог (https://logs.example.org/c/11)"
    entities = rows["19"].text
    for kept in (
        "Реліз 2.5 майже готовий: make release\ngit tag v2.5\nзнижка 20% не забути changelog 🔥",
        "п'ятниця субота #release $TON /status team@example.org +380 44 000 00 00 4111 1111 1111 1111",
        "@olena https://example.org/r чекліст (https://example.org/checklist) Ігор",
    ):
        assert kept in entities


async def test_messages_without_text_are_stored_with_their_kind(fresh: Services) -> None:
    report = await load(fresh, "2025_kinds.json")
    rows = rows_of(fresh, "-1001800000001")
    kinds = {n: rows[n].media_kind for n in rows}
    assert kinds == {
        "1": "location", "2": "venue", "3": "contact", "4": None, "5": "game", "6": "invoice",
        "7": "giveaway", "8": "giveaway", "9": "paid_media", "10": "video_note", "11": "animation",
        "12": "video", "13": "audio", "14": "document", "15": "photo", "16": "photo", "17": None,
    }  # fmt: skip
    classified = {n for n, m in rows.items() if m.status == MessageStatus.pending}
    assert classified == {"12", "15", "17"}  # only those with a caption
    assert (report.stats.unsupported, report.stats.skipped) == (1, 1)  # not counted as service


async def test_polls_and_todo_lists_are_classified_stickers_keep_their_emoji(fresh: Services) -> None:
    await load(fresh, "2019_supergroup.json")
    await load(fresh, "2024_supergroup.json")
    rows = rows_of(fresh, TEAM)
    poll, todo, sticker, photo = rows["12"], rows["22"], rows["14"], rows["15"]
    assert poll.text == "Випускаємо 2.3 у п'ятницю?\n- так\n- ні, спершу фікс оплати"
    assert todo.text == "Чекліст релізу\n- прогнати тести\n- оновити changelog"
    assert (poll.media_kind, todo.media_kind) == ("poll", "checklist")
    assert poll.status == todo.status == MessageStatus.pending
    assert (sticker.text, sticker.media_kind, sticker.status) == ("👍", "sticker", MessageStatus.skipped)
    assert (photo.text, photo.status) == ("", MessageStatus.skipped)


async def test_a_migrated_group_is_one_chat_with_negative_ids(fresh: Services) -> None:
    report = await load(fresh, "2021_migrated_group.json")
    rows = rows_of(fresh, "-1001600000001")
    assert set(rows) == {"-999999998", "-999999997", "2", "3"} and report.stats.skipped == 3
    assert rows["-999999997"].reply_to_id == rows["-999999998"].id
    assert rows["3"].reply_to_id == rows["2"].id


async def test_forum_topics_and_their_renames(fresh: Services) -> None:
    """Telegram Desktop writes `topic_edit` without the topic's id: the rename cannot be
    placed, so the topic keeps its title; icon changes are skipped alike."""
    report = await load(fresh, "2023_forum.json")
    rows = rows_of(fresh, "-1001700000001")
    assert {n: (m.thread_id, m.thread_title) for n, m in rows.items()} == {
        "2": ("2", "Оплати"), "3": ("2", "Оплати"), "4": ("2", "Оплати"),
        "5": ("5", "Реліз"), "6": ("5", "Реліз"), "9": ("5", "Реліз"), "10": (None, None),
    }  # fmt: skip
    assert rows["4"].reply_to_id == rows["3"].id and report.stats.skipped == 2


async def test_signatures_bots_and_saved_messages(fresh: Services) -> None:
    await load(fresh, "2020_supergroup.json")
    await load(fresh, "2025_kinds.json")
    await load(fresh, "2023_account.json")
    assert rows_of(fresh, TEAM)["17"].author == "Марта"  # a channel post's signature
    kinds = rows_of(fresh, "-1001800000001")
    assert (kinds["17"].forwarded_from, kinds["5"].forwarded_from) == ("via @gif", "via @gamebot")
    assert rows_of(fresh, "7001")["1"].forwarded_from == "Кошик · продукт"  # Saved Messages


async def test_a_whole_account_and_its_left_chats(fresh: Services) -> None:
    report = await load(fresh, "2023_account.json")
    assert (report.stats.chats, report.stored, report.stats.left_chats_skipped) == (4, 6, 2)
    assert rows_of(fresh, "-1001500000010") == {}
    assert set(rows_of(fresh, "-4001")) == {"2"} and set(rows_of(fresh, "7100")) == {"1", "2"}
    left = await load(fresh, "2023_account.json", include_left=True)
    assert (left.stats.chats, left.stored, left.existing, left.stats.left_chats_skipped) == (6, 3, 6, 0)
    team = rows_of(fresh, "-1001500000010")
    assert team["2"].reply_to_id == team["1"].id and set(rows_of(fresh, "-1001500000009")) == {"5"}


def test_cli_names_the_zone_and_the_left_chats(settings: Settings, engine: Engine) -> None:
    runner = CliRunner()
    path = str(FIXTURES / "2019_supergroup.json")
    args = ["import", "telegram", path, "--no-classify", "--timezone", "Asia/Tokyo"]
    done = runner.invoke(app, args, env=cli_env(settings))
    assert done.exit_code == 0, done.output
    assert "times read as Asia/Tokyo" in done.output
    with Session(engine) as session:
        first = session.exec(
            select(Message).where(Message.chat_id == TEAM, Message.external_id == "10")
        ).one()
    assert first.sent_at == datetime(2019, 3, 4, 1, 15, tzinfo=UTC)  # 10:15 in Tokyo
    account = runner.invoke(
        app, ["import", "telegram", str(FIXTURES / "2023_account.json")], env=cli_env(settings)
    )
    assert "2 left chat(s) skipped (--include-left imports them)" in account.output
    wrong = runner.invoke(app, [*args[:-1], "Mars/Olympus"], env=cli_env(settings))
    assert wrong.exit_code == 1 and "unknown time zone 'Mars/Olympus'" in wrong.output
