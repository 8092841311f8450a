"""Export parsing and Telegram settings, without servers."""

from __future__ import annotations

import io
import json

import pytest

from core.config import Settings
from core.telegram.export import Chat, CountingReader, ExportError, ExportReader, author_id, message_text


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
    assert Chat(export_id=export_id, type=kind).chat_id == bot_api_id


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


def test_unreadable_start_names_the_byte() -> None:
    with pytest.raises(ExportError, match="near byte"):
        list(ExportReader().read(CountingReader(io.BytesIO(b'{"name": "T", "messages": [ {"id": '))))
