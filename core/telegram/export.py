"""Telegram Desktop exports (result.json), streamed: one chat, or a whole account (chats.list).

Memory stays flat whatever the file size: messages are built one at a time from ijson's
event stream; only each chat's header and its forum topic titles are kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

import ijson

from core.messages.bulk import BulkRow
from core.telegram import SOURCE

CHAT_PREFIXES = {"messages": "", "chats.list.item.messages": "chats.list.item"}
"""Where a chat's messages array lives -> where the chat is: one chat, or a whole account."""
SUPERGROUP_TYPES = {"private_supergroup", "public_supergroup", "private_channel", "public_channel"}


class ExportError(ValueError):
    """The file is not a readable export; the message names where it went wrong."""


class Invalid(ValueError):
    """One field of one message has the wrong type."""


@dataclass
class ExportStats:
    chats: int = 0
    messages: int = 0
    skipped: int = 0
    """Service messages (joins, pins…) and unknown entries: not stored."""
    truncated: int = 0


@dataclass
class Chat:
    """One exported chat: its header, and the titles of its forum topics seen so far."""

    export_id: int | None = None
    name: str | None = None
    type: str | None = None
    topics: dict[int, str] = field(default_factory=dict)
    index: int = 0
    """How many of its messages were read (the position named in errors)."""
    _header: tuple[str, str | None] | None = field(default=None, init=False, repr=False)

    def header(self) -> tuple[str, str | None]:
        """(chat_id, title), worked out once, at its first message (exports put the header first)."""
        if self._header is None:
            self._header = (self.chat_id, self.title)
        return self._header

    @property
    def title(self) -> str | None:
        if self.name is not None and not isinstance(self.name, str):
            raise Invalid(f"the chat's 'name' must be a string, not {self.name!r:.40}")
        return _clip(_checked(self.name.replace("\x00", ""), "name")) if self.name else None

    @property
    def chat_id(self) -> str:
        """The id the Bot API uses for the same chat, so imported and live messages meet."""
        if self.export_id is None:
            raise Invalid("the chat's 'id' must come before its messages")
        if isinstance(self.export_id, bool) or not isinstance(self.export_id, int):
            raise Invalid(f"the chat's 'id' must be an integer, not {self.export_id!r:.40}")
        if self.type in SUPERGROUP_TYPES:
            return f"-100{self.export_id}"
        return str(-self.export_id if self.type == "private_group" else self.export_id)


class CountingReader:
    """A binary file that remembers how many bytes were read (the position in errors)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.position = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.position += len(data)
        return data


@dataclass
class ExportReader:
    """Turns an export into rows to store; `stats` counts what it read and skipped."""

    max_text_bytes: int = 16 * 1024
    classify: bool = True
    stats: ExportStats = field(default_factory=ExportStats)

    def read(self, stream: CountingReader) -> Iterator[BulkRow]:
        chat = Chat()
        try:
            for raw, chat in self._raw_messages(stream):
                item = self._convert(chat, raw)
                if item is None:
                    self.stats.skipped += 1
                else:
                    yield item
        except ijson.JSONError as exc:
            raise ExportError(
                f"the JSON is broken near byte {stream.position:,}, after {_where(chat)}: {exc}"
            ) from None
        except UnicodeDecodeError as exc:  # bytes that are not UTF-8, or an escaped lone surrogate
            where = f"near byte {stream.position:,}, after {_where(chat)}"
            raise ExportError(f"the text is not valid UTF-8 {where}: {exc.reason}") from None
        except Invalid as exc:
            raise ExportError(f"{_where(chat)}, near byte {stream.position:,}: {exc}") from None

    def _raw_messages(self, stream: CountingReader) -> Iterator[tuple[dict[str, Any], Chat]]:
        """(message dict, its chat) pairs, the messages built by ijson in C."""
        base, chat = _first_chat(stream)
        self.stats.chats = 1
        if base:
            yield from self._account_messages(stream, base)
            return
        for raw in ijson.items(stream, "messages.item", use_float=True):  # one chat: header known
            chat.index += 1
            yield raw, chat

    def _account_messages(self, stream: CountingReader, base: str) -> Iterator[tuple[dict[str, Any], Chat]]:
        """A whole account: a thin watcher over ijson's events picks up each chat's header."""
        heads = {f"{base}.{key}": name for key, name in _HEAD_FIELDS.items()}
        chat = Chat()

        def watch(events: Iterator[tuple[str, str, Any]]) -> Iterator[tuple[str, str, Any]]:
            nonlocal chat
            for event in events:
                if event[0] in heads:
                    setattr(chat, heads[event[0]], event[2])
                elif event[0] == base and event[1] == "start_map":
                    chat = Chat()
                yield event

        self.stats.chats = 0
        for raw in ijson.items(watch(ijson.parse(stream, use_float=True)), f"{base}.messages.item"):
            if chat.index == 0:
                self.stats.chats += 1
            chat.index += 1
            yield raw, chat

    def _convert(self, chat: Chat, raw: dict[str, Any]) -> BulkRow | None:
        self.stats.messages += 1
        kind = raw.get("type")
        if kind == "service":
            return self._service(chat, raw)
        if kind != "message":
            return None
        text = self._limited(message_text(raw.get("text")))
        reply_to = _int(raw, "reply_to_message_id")
        if raw.get("reply_to_peer_id") is not None:
            reply_to = None  # a reply to another chat's message
        topic = chat.topics.get(reply_to) if reply_to is not None else None
        chat_id, title = chat.header()
        return BulkRow(
            SOURCE,
            chat_id,
            title,
            str(_required_int(raw, "id")),
            author_id(_str(raw, "from_id")),
            _clip(_str(raw, "from")),
            text,
            sent_at(raw),
            None if reply_to is None or topic else str(reply_to),
            str(reply_to) if topic else None,
            topic,
            export_media_kind(raw),
            _clip(_str(raw, "forwarded_from")),
            self.classify and bool(text.strip()),
        )

    def _service(self, chat: Chat, raw: dict[str, Any]) -> BulkRow | None:
        """Forum topics are remembered (and their creation kept, unclassified); the rest is skipped."""
        action = raw.get("action")
        if action == "topic_edited" and _str(raw, "new_title"):
            topic = _int(raw, "reply_to_message_id")
            if topic in chat.topics:
                chat.topics[topic] = _clip(_str(raw, "new_title")) or chat.topics[topic]
            return None
        if action != "topic_created":
            return None
        message_id = _required_int(raw, "id")
        title = _clip(_str(raw, "title")) or f"topic {message_id}"
        chat.topics[message_id] = title
        chat_id, chat_title = chat.header()
        return BulkRow(
            SOURCE,
            chat_id,
            chat_title,
            str(message_id),
            author_id(_str(raw, "actor_id")),
            _clip(_str(raw, "actor")),
            title,
            sent_at(raw),
            None,
            str(message_id),
            title,
            None,
            None,
            False,
        )

    def _limited(self, text: str) -> str:
        """Text cut to the configured limit (on a character boundary); NUL bytes dropped."""
        if "\x00" in text:
            text = text.replace("\x00", "")
        encoded = _encoded(text, "text")
        if len(encoded) <= self.max_text_bytes:
            return text
        self.stats.truncated += 1
        return encoded[: self.max_text_bytes].decode("utf-8", "ignore")


_HEAD_FIELDS = {"id": "export_id", "name": "name", "type": "type"}


def _first_chat(stream: CountingReader) -> tuple[str, Chat]:
    """Where chats live (the root for one chat, or the account's chats.list) and the first
    chat's header, read from the events before its messages; the file is then rewound."""
    chat = Chat()
    try:
        for prefix, event, value in ijson.parse(stream.raw, use_float=True):
            base, _, key = prefix.rpartition(".")
            if key in _HEAD_FIELDS and base in CHAT_PREFIXES.values():
                setattr(chat, _HEAD_FIELDS[key], value)
            elif event == "start_array" and prefix in CHAT_PREFIXES:
                return CHAT_PREFIXES[prefix], chat
    except ijson.JSONError as exc:
        raise ExportError(f"the JSON is broken near byte {stream.raw.tell():,}: {exc}") from None
    finally:
        stream.raw.seek(0)
    raise ExportError("not a Telegram Desktop export: no 'messages' or 'chats.list' found")


def _where(chat: Chat) -> str:
    name = f"chat {chat.name!r}" if chat.name else "the chat"
    return f"message #{chat.index} of {name}" if chat.index else f"the start of {name}"


def message_text(value: object) -> str:
    """Export text: a string, or an array of strings and entity objects ({"type", "text"})."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(_entity_text(part) for part in value)
    raise Invalid(f"'text' must be a string or an array, not {type(value).__name__}")


def _entity_text(part: object) -> str:
    if isinstance(part, str):
        return part
    if isinstance(part, dict) and isinstance(part.get("text", ""), str):
        return str(part.get("text", ""))
    raise Invalid(f"'text' array items must be strings or entity objects, not {part!r:.60}")


def export_media_kind(raw: dict[str, Any]) -> str | None:
    media = raw.get("media_type")
    if isinstance(media, str):
        return media[:32]
    for key, kind in (("photo", "photo"), ("file", "document"), ("poll", "poll"),
                      ("location_information", "location"), ("contact_information", "contact")):  # fmt: skip
        if key in raw:
            return kind
    return None


def author_id(from_id: str | None) -> str | None:
    """`user123` -> `123` and `channel123` -> `-100123`: the ids the Bot API gives."""
    if from_id is None:
        return None
    if from_id.startswith("user"):
        return from_id[4:132]
    if from_id.startswith("channel"):
        return f"-100{from_id[7:131]}"
    return from_id[:128]


def sent_at(raw: dict[str, Any]) -> datetime | None:
    """When it was sent: `date_unixtime`, else the ISO `date` (naive means UTC); years 1900-2999."""
    unix = raw.get("date_unixtime")
    if isinstance(unix, str | int) and str(unix).isdigit():
        if int(unix) < _LATEST:
            return datetime.fromtimestamp(int(unix), UTC)
        raise Invalid(f"'date_unixtime' is out of range: {unix!r:.40}")
    date = raw.get("date")
    if date is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(date))
    except ValueError:
        raise Invalid(f"'date' must be an ISO date, not {date!r:.40}") from None
    if not 1900 <= parsed.year <= 2999:
        raise Invalid(f"'date' must be between the years 1900 and 2999, not {date!r:.40}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


_LATEST = int(datetime(3000, 1, 1, tzinfo=UTC).timestamp())


def _int(raw: dict[str, Any], key: str) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"'{key}' must be an integer, not {value!r:.40}")
    return value


def _required_int(raw: dict[str, Any], key: str) -> int:
    value = _int(raw, key)
    if value is None:
        raise Invalid(f"'{key}' is missing")
    return value


def _str(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid(f"'{key}' must be a string, not {value!r:.40}")
    return _checked(value.replace("\x00", "") if "\x00" in value else value, key)


def _encoded(value: str, key: str) -> bytes:
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid(f"'{key}' must be valid Unicode (it holds a lone surrogate)") from None


def _checked(value: str, key: str) -> str:
    """The value, once it is known to be storable (PostgreSQL refuses lone surrogates)."""
    if not value.isascii():
        _encoded(value, key)
    return value


def _clip(value: str | None, limit: int = 256) -> str | None:
    return value[:limit] if value else None
