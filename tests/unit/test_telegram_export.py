"""Export parsing and Telegram settings, without servers."""

from __future__ import annotations

import io
import json

import pytest

from core.config import Settings
from core.telegram.export import CountingReader, ExportError, ExportReader
from core.telegram.export.chats import Chat
from core.telegram.export.content import message_text
from core.telegram.export.ids import author_id


def test_chat_list_accepts_commas_and_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_TELEGRAM_CHATS", "-1001, 42")
    assert Settings().telegram_chats == [-1001, 42]
    monkeypatch.setenv("TRACKER_TELEGRAM_CHATS", "[-1001]")
    assert Settings().telegram_chats == [-1001]
    monkeypatch.setenv("TRACKER_TELEGRAM_CHATS", "")
    assert Settings().telegram_chats == []


@pytest.mark.parametrize(
    ("kind", "export_id", "bot_api_id"),
    [
        ("private_supergroup", 123, "-100123"),
        ("public_channel", 5, "-1005"),
        ("private_group", 77, "-77"),
        ("personal_chat", 9, "9"),
    ],
)
def test_chat_ids_are_the_bot_apis(kind: str, export_id: int, bot_api_id: str) -> None:
    assert Chat(export_id=export_id, type=kind).chat_id() == bot_api_id


def test_text_and_authors() -> None:
    assert message_text(["a ", {"type": "mention", "text": "@olena"}, "!"]) == "a @olena!"
    assert message_text(None) == ""
    assert (author_id("user42"), author_id("channel7"), author_id(None)) == ("42", "-1007", None)


def test_reader_streams_items_in_order() -> None:
    raw = {"name": "T", "type": "private_supergroup", "id": 1, "messages": [
        {"id": i, "type": "message", "date_unixtime": "1800000000", "text": f"m{i}"} for i in range(1, 4)]}  # fmt: skip
    reader = ExportReader()
    items = list(reader.read(CountingReader(io.BytesIO(json.dumps(raw).encode()))))
    assert [i.external_id for i in items] == ["1", "2", "3"] and reader.stats.messages == 3


def test_a_cut_file_names_the_exact_bytes() -> None:
    data = b'{"name": "T", "messages": [ {"id": 1}, {"id": '
    with pytest.raises(ExportError) as error:
        list(ExportReader().read(CountingReader(io.BytesIO(data))))
    message = str(error.value)
    assert f"the file ends at byte {len(data)}" in message and "after message #1 of chat 'T'" in message
    assert f"(it starts at byte {data.rindex(b'{') + 1})" in message and "cut short" in message


def test_a_file_that_is_not_json_says_so() -> None:
    with pytest.raises(ExportError) as error:
        list(ExportReader().read(CountingReader(io.BytesIO(b"<!DOCTYPE html><html>...</html>"))))
    assert "the JSON is broken at byte 1, in the part before the messages" in str(error.value)
    assert "the HTML format cannot be imported" in str(error.value)


def test_broken_json_names_the_byte_where_it_breaks() -> None:
    good = {
        "id": 1,
        "type": "message",
        "date_unixtime": "1800000000",
        "text": "ok " * 1300,
    }  # about 4,096 characters
    data = json.dumps({"name": "T", "id": 1, "messages": [good, good | {"id": 2}]}).encode()
    bad = data.rindex(b'"ok ')  # the second message's text loses its opening quote
    data = data[:bad] + b"?" + data[bad + 1 :]
    with pytest.raises(ExportError) as error:
        list(ExportReader().read(CountingReader(io.BytesIO(data))))
    assert f"the JSON is broken at byte {bad + 1:,}, in the message after message #1" in str(error.value)


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ({"text": "broken \udc00 text"}, "not valid UTF-8"),  # an escaped lone surrogate
        ({"from": "Ol\udc00ena"}, "not valid UTF-8"),
    ],
    ids=["surrogate-text", "surrogate-author"],
)
def test_text_the_json_reader_cannot_decode_stops_naming_the_message(
    bad: dict[str, object], reason: str
) -> None:
    good = {"id": 1, "type": "message", "date_unixtime": "1800000000", "text": "ok"}
    raw = {"name": "T", "type": "private_supergroup", "id": 1, "messages": [good, good | {"id": 2} | bad]}
    reader = ExportReader()
    read = []
    with pytest.raises(ExportError, match=reason) as error:
        read.extend(reader.read(CountingReader(io.BytesIO(json.dumps(raw).encode()))))
    assert [r.external_id for r in read] == ["1"]
    assert "after message #1 of chat 'T'" in str(error.value)


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ({"date_unixtime": "99999999999999"}, "'date_unixtime' is out of range"),
        ({"date_unixtime": None, "date": "0999-01-01T00:00:00"}, "between the years 1900 and 2999"),
        ({"id": "two"}, "'id' must be an integer"),
        ({"type": "note"}, "'type' must be 'message', 'service' or 'unsupported'"),
    ],
    ids=["unix-time", "iso-date", "id", "type"],
)
def test_what_postgresql_cannot_store_is_skipped_and_named(bad: dict[str, object], reason: str) -> None:
    good = {"id": 1, "type": "message", "date_unixtime": "1800000000", "text": "ok"}
    messages = [good, good | {"id": 2} | bad, good | {"id": 3}]
    raw = {"name": "T", "type": "private_supergroup", "id": 1, "messages": messages}
    reader = ExportReader()
    read = list(reader.read(CountingReader(io.BytesIO(json.dumps(raw).encode()))))
    assert [r.external_id for r in read] == ["1", "3"] and reader.stats.unreadable == 1
    (where,) = reader.stats.unreadable_at
    assert where.startswith("message #2 of chat 'T' (id ") and "near byte" in where and reason in where


def test_rows_carry_what_the_messages_table_needs() -> None:
    raw = {"name": "Команда\x00", "type": "private_supergroup", "id": 5, "messages": [
        {"id": 1, "type": "service", "action": "topic_created", "title": "Реліз", "date_unixtime": "1800000000"},
        {"id": 2, "type": "message", "date_unixtime": "1800000001", "text": "a\x00b", "reply_to_message_id": 1,
         "from": "Олена", "from_id": "user" + "9" * 200, "photo": "(File not included.)"},
        {"id": 3, "type": "message", "date_unixtime": "1800000002", "text": "  ", "reply_to_message_id": 2}]}  # fmt: skip
    topic, in_topic, blank = ExportReader().read(CountingReader(io.BytesIO(json.dumps(raw).encode())))
    assert (topic.text, topic.thread_id, topic.classify, topic.chat_title) == ("Реліз", "1", False, "Команда")
    assert (in_topic.text, in_topic.thread_title, in_topic.reply_to_external_id) == ("ab", "Реліз", None)
    assert (
        in_topic.author_id is not None and len(in_topic.author_id) == 128 and in_topic.media_kind == "photo"
    )
    assert (blank.reply_to_external_id, blank.classify, blank.chat_id) == ("2", False, "-1005")
