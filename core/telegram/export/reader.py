"""Telegram Desktop exports (result.json), streamed: one chat, or a whole account.

Memory stays flat whatever the file size: messages are built one at a time by ijson; only
each chat's header and its forum topic titles are kept. A whole-account export lists its
chats in `chats.list` and the channels and groups the user left in `left_chats.list`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import IO, Any

import ijson

from core.channels.fields import Invalid
from core.messages.bulk import BulkRow
from core.telegram.export.broken import ExportError, broken
from core.telegram.export.chats import Chat
from core.telegram.export.rows import LISTED, ExportStats, Rows
from core.telegram.export.times import Clock, local_zone, zone_name

_HEAD_FIELDS = {"id": "export_id", "name": "name", "type": "type"}
_ACCOUNT = "chats.list.item"
_LEFT = "left_chats."
_BEFORE_MESSAGES = (
    "the part before the messages (is it result.json of an export in the JSON format? "
    "the HTML format cannot be imported)"
)


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
    """Turns an export into rows to store; `stats` counts what it read and skipped.

    `zone` is the exporting computer's, for exports older than mid-2022 (local times only);
    `include_left` imports the chats a whole-account export lists as left too."""

    max_text_bytes: int = 16 * 1024
    classify: bool = True
    zone: tzinfo = field(default_factory=local_zone)
    include_left: bool = False
    stats: ExportStats = field(default_factory=ExportStats)

    def read(self, stream: CountingReader) -> Iterator[BulkRow]:
        """The rows, in the file's order; a message that cannot be understood is skipped and
        named in the stats, a file that is not readable JSON stops with an ExportError."""
        clock = Clock(self.zone)
        self.stats.zone = zone_name(self.zone)
        rows = Rows(self.stats, clock, self.max_text_bytes, self.classify)
        chat = Chat()
        try:
            for raw, chat in self._raw_messages(stream):
                try:
                    row = rows.row(chat, raw)
                except Invalid as exc:
                    self._unreadable(chat, raw, stream, exc)
                    continue
                if row is not None:
                    yield row
        except (ijson.JSONError, UnicodeDecodeError) as exc:
            raise broken(stream.raw, stream.position, f"the message after {chat.where()}", exc) from None
        finally:
            self.stats.local_times = clock.local

    def _unreadable(self, chat: Chat, raw: object, stream: CountingReader, exc: Invalid) -> None:
        self.stats.unreadable += 1
        if len(self.stats.unreadable_at) < LISTED:
            number = raw.get("id") if isinstance(raw, dict) else None
            where = f"{chat.where()} (id {number!r:.24}), near byte {stream.position:,}"
            self.stats.unreadable_at.append(f"{where}: {exc}")

    def _raw_messages(self, stream: CountingReader) -> Iterator[tuple[Any, Chat]]:
        """(message, its chat) pairs, the messages built by ijson in C."""
        account, chat = _layout(stream)
        if account:
            yield from self._account_messages(stream)
            return
        self.stats.chats = 1
        for raw in ijson.items(stream, "messages.item", use_float=True):  # one chat: header known
            chat.index += 1
            yield raw, chat

    def _account_messages(self, stream: CountingReader) -> Iterator[tuple[Any, Chat]]:
        """A whole account: a thin watcher over ijson's events picks up each chat's header;
        left chats are read as chats (`include_left`) or dropped and counted."""
        heads = {f"{_ACCOUNT}.{key}": name for key, name in _HEAD_FIELDS.items()}
        chat = Chat()

        def watch(events: Iterator[tuple[str, str, Any]]) -> Iterator[tuple[str, str, Any]]:
            nonlocal chat
            for prefix, event, value in events:
                if prefix.startswith(_LEFT):
                    if not self.include_left:
                        if prefix == "left_chats.list.item" and event == "start_map":
                            self.stats.left_chats_skipped += 1
                        continue
                    prefix = "chats" + prefix[len("left_chats") :]  # read as one of the chats
                if prefix in heads:
                    setattr(chat, heads[prefix], value)
                elif prefix == _ACCOUNT and event == "start_map":
                    chat = Chat()
                yield prefix, event, value

        for raw in ijson.items(watch(ijson.parse(stream, use_float=True)), f"{_ACCOUNT}.messages.item"):
            if chat.index == 0:
                self.stats.chats += 1
            chat.index += 1
            yield raw, chat


def _layout(stream: CountingReader) -> tuple[bool, Chat]:
    """Whether the file is a whole account, and (for one chat) its header, read from the
    events before its messages; the file is then rewound."""
    chat = Chat()
    try:
        for prefix, event, value in ijson.parse(stream.raw, use_float=True):
            if prefix in _HEAD_FIELDS:
                setattr(chat, _HEAD_FIELDS[prefix], value)
            elif event == "start_array" and prefix == "messages":
                return False, chat
            elif event == "start_array" and prefix in ("chats.list", "left_chats.list"):
                return True, chat
    except (ijson.JSONError, UnicodeDecodeError) as exc:
        raise broken(stream.raw, stream.raw.tell(), _BEFORE_MESSAGES, exc) from None
    finally:
        stream.raw.seek(0)
    raise ExportError("not a Telegram Desktop export: no 'messages' or 'chats.list' found")
