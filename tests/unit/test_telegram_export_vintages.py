"""The vintages of Telegram Desktop's export, field by field, without servers (issue 12)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from core.channels.fields import Invalid
from core.messages.bulk import BulkRow
from core.telegram.export import CountingReader, ExportReader, local_zone, zone_name, zone_named
from core.telegram.export.content import attached_text, media_kind, message_text
from core.telegram.export.ids import author_id, chat_id
from core.telegram.export.rows import ROW_ORDER, bulk_row
from core.telegram.export.times import Clock

USER, CHAT = 1 << 32, 2 << 32


@pytest.mark.parametrize(
    ("export_id", "kind", "legacy", "expected"),
    [
        (CHAT + 1300000001, "private_supergroup", True, "-1001300000001"),  # 2018-2021: type offsets
        (1300000001, "private_supergroup", False, "-1001300000001"),  # since April 2021: bare
        (CHAT + 555, "private_group", None, "-555"),  # no sender said which: the id's shape
        (USER + 7002, "personal_chat", True, "7002"),
        (USER + 7002, "personal_chat", False, str(USER + 7002)),  # a new user id above 2**32
        (7001, "saved_messages", False, "7001"),
    ],
)
def test_chat_ids_of_every_vintage(export_id: int, kind: str, legacy: bool | None, expected: str) -> None:
    assert chat_id(export_id, kind, legacy) == expected


def test_sender_ids_of_every_vintage() -> None:
    assert [author_id(v) for v in (7001, USER + 7001, "user7001")] == ["7001"] * 3
    assert [author_id(v) for v in (CHAT + 1400000002, "channel1400000002")] == ["-1001400000002"] * 2
    assert (author_id("chat42"), author_id(None)) == ("-42", None)
    with pytest.raises(Invalid, match="'actor_id' must be a string or an integer"):
        author_id(["user1"], "actor_id")


def test_a_chat_exported_before_ids_existed_is_known_by_its_name() -> None:
    raw = {"name": "Дизайн", "type": "private_group", "messages": [{"id": 1, "type": "message", "text": "a"}]}
    (row,) = ExportReader().read(CountingReader(io.BytesIO(json.dumps(raw).encode())))
    assert row.chat_id == "export:private_group:Дизайн" and row.author_id is None


def test_local_times_and_edits() -> None:
    clock = Clock(ZoneInfo("Europe/Kyiv"))
    old = {"date": "2019-07-01T12:00:00", "edited": "1970-01-01T03:00:00"}  # never edited (before 2.1.9)
    assert clock.sent_at(old) == datetime(2019, 7, 1, 9, tzinfo=UTC) and clock.edited_at(old) is None
    edited = {"date_unixtime": "1700000000", "edited": "2023-11-14T22:15:00", "edited_unixtime": "1700000100"}
    assert clock.edited_at(edited) == datetime.fromtimestamp(1700000100, UTC)
    assert (
        clock.sent_at(edited) == datetime.fromtimestamp(1700000000, UTC) and clock.local == 2
    )  # the old ones


def test_the_zone_is_this_machines_unless_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    assert zone_name(local_zone()) == "Asia/Tokyo" and zone_name(ExportReader().zone) == "Asia/Tokyo"
    assert zone_name(zone_named("Europe/Kyiv")) == "Europe/Kyiv"
    with pytest.raises(ValueError, match="unknown time zone"):
        zone_named("Europe/Atlantis")


def test_entities_keep_their_meaning() -> None:
    parts = [
        {"type": "text_link", "text": "docs", "href": "https://example.org/d"},
        " ",
        {"type": "text_link", "text": "https://example.org/x", "href": "https://example.org/x"},
        " ",
        {"type": "mention_name", "text": "", "user_id": 7002},
        " ",
        {"type": "custom_emoji", "text": "🔥", "document_id": "5368324170671202286"},
    ]
    assert message_text(parts) == "docs (https://example.org/d) https://example.org/x user 7002 🔥"


def test_kinds_by_the_bot_apis_names() -> None:
    assert media_kind({"media_type": "voice_message"}) == "voice"
    assert media_kind({"media_type": "video_message"}) == "video_note"
    assert media_kind({"place_name": "Офіс", "location_information": {}}) == "venue"
    assert media_kind({"file": "(File not included.)"}) == "document"
    assert media_kind({"text": "plain"}) is None


def test_poll_questions_written_as_text_arrays() -> None:
    """Since 2024 a poll's question and options may carry entities, like a message's text."""
    poll = {"question": ["Реліз ", {"type": "bold", "text": "2.5"}, "?"], "answers": [{"text": "так"}]}
    assert attached_text({"poll": poll}, "poll") == "Реліз 2.5?\n- так"
    with pytest.raises(Invalid, match="'poll' must be an object"):
        attached_text({"poll": "?"}, "poll")


def test_rows_are_built_with_every_field_of_the_bulk_row() -> None:
    assert sorted(ROW_ORDER) == sorted(BulkRow._fields)
    row = bulk_row(*ROW_ORDER)
    assert all(getattr(row, name) == name for name in ROW_ORDER)
