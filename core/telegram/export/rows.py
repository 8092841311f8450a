"""One exported message -> the row to store (or nothing, for service messages), and the counts."""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any

from core.channels.fields import Invalid, clip, optional_int, optional_str, required_int, within_limit
from core.messages.bulk import BulkRow
from core.telegram import SOURCE
from core.telegram.export.chats import Chat
from core.telegram.export.content import attached_text, media_kind, message_text
from core.telegram.export.ids import author_id
from core.telegram.export.times import Clock

LISTED = 50
"""How many unreadable messages the stats name (the count goes on): memory stays flat."""
ROW_ORDER = (
    "source", "chat_id", "chat_title", "external_id", "author_id", "author", "text", "sent_at",
    "edited_at", "reply_to_external_id", "thread_id", "thread_title", "media_kind", "forwarded_from",
    "classify",
)  # fmt: skip
"""The order rows are built in here; BulkRow's own (the table's) may differ."""
_TO_BULK = operator.itemgetter(*(ROW_ORDER.index(name) for name in BulkRow._fields))
_WITH_TEXT = {"poll", "checklist", "sticker"}
_ORIGINS = {"forwarded_from", "saved_from", "via_bot"}
_TOPIC_RENAMES = {"topic_edit", "topic_edited"}


@dataclass
class ExportStats:
    chats: int = 0
    messages: int = 0
    skipped: int = 0
    """Service messages (joins, pins, migrations…): not stored."""
    unsupported: int = 0
    """Messages Telegram Desktop could not export (`"type": "unsupported"`)."""
    truncated: int = 0
    left_chats_skipped: int = 0
    zone: str = "UTC"
    local_times: int = 0
    """Times read as `zone`'s local time (the export has no unix times)."""
    unreadable: int = 0
    unreadable_at: list[str] = field(default_factory=list)
    """Where the first LISTED unreadable messages are, and why."""


@dataclass
class Rows:
    """Builds the rows; `stats` counts what was read and skipped."""

    stats: ExportStats
    clock: Clock
    max_text_bytes: int
    classify: bool

    def row(self, chat: Chat, raw: object) -> BulkRow | None:
        self.stats.messages += 1
        if not isinstance(raw, dict):
            raise Invalid(f"a message must be an object, not {raw!r:.40}")
        kind = raw.get("type")
        if kind == "message":
            return self._message(chat, raw)
        if kind == "service":
            return self._service(chat, raw)
        if kind == "unsupported":
            self.stats.unsupported += 1
            return None
        raise Invalid(f"'type' must be 'message', 'service' or 'unsupported', not {kind!r:.40}")

    def _message(self, chat: Chat, raw: dict[str, Any]) -> BulkRow:
        media = media_kind(raw)
        own = message_text(raw.get("text"))
        extra = attached_text(raw, media) if media in _WITH_TEXT else ""
        text = self._limited(f"{own}\n{extra}" if own and extra else own or extra)
        reply_to = optional_int(raw, "reply_to_message_id")
        if raw.get("reply_to_peer_id") is not None:
            reply_to = None  # a reply to another chat's message
        topic = chat.topics.get(reply_to) if reply_to is not None else None
        chat_id, title = chat.header(raw)
        return bulk_row(
            SOURCE,  # source
            chat_id,
            title,  # chat_title
            str(required_int(raw, "id")),  # external_id
            author_id(raw.get("from_id")),  # author_id
            clip(("author" in raw and optional_str(raw, "author")) or optional_str(raw, "from")),  # author
            text,
            self.clock.sent_at(raw),  # sent_at
            self.clock.edited_at(raw),  # edited_at
            None if reply_to is None or topic else str(reply_to),  # reply_to_external_id
            str(reply_to) if topic else None,  # thread_id
            topic,  # thread_title
            media,  # media_kind
            None if _ORIGINS.isdisjoint(raw) else clip(_origin(raw)),  # forwarded_from
            self.classify and media != "sticker" and bool(text.strip()),  # classify
        )

    def _service(self, chat: Chat, raw: dict[str, Any]) -> BulkRow | None:
        """A forum topic's creation is kept (unclassified) and its renames followed; the rest
        (joins, pins, migrations…) is counted, not stored."""
        action = raw.get("action")
        if action == "topic_created":
            return self._topic_created(chat, raw)
        if action in _TOPIC_RENAMES:
            _rename_topic(chat, raw)
        self.stats.skipped += 1
        return None

    def _topic_created(self, chat: Chat, raw: dict[str, Any]) -> BulkRow:
        message_id = required_int(raw, "id")
        title = clip(optional_str(raw, "title")) or f"topic {message_id}"
        chat.topics[message_id] = title
        chat_id, chat_title = chat.header(raw)
        return BulkRow(
            source=SOURCE,
            chat_id=chat_id,
            chat_title=chat_title,
            external_id=str(message_id),
            author_id=author_id(raw.get("actor_id"), "actor_id"),
            author=clip(optional_str(raw, "actor")),
            text=title,
            sent_at=self.clock.sent_at(raw),
            edited_at=None,
            reply_to_external_id=None,
            thread_id=str(message_id),
            thread_title=title,
            media_kind=None,
            forwarded_from=None,
            classify=False,
        )

    def _limited(self, text: str) -> str:
        """Text cut to the configured limit (on a character boundary); NUL bytes dropped."""
        text, cut = within_limit(text, self.max_text_bytes)
        self.stats.truncated += cut
        return text


def bulk_row(*values: object) -> BulkRow:
    """A row from values in ROW_ORDER, put in BulkRow's order by one C call (cheaper, per
    message, than building it by keyword)."""
    return tuple.__new__(BulkRow, _TO_BULK(values))


def _origin(raw: dict[str, Any]) -> str | None:
    """Where the content came from: forwarded from, saved from (Saved Messages), or an inline bot."""
    via = optional_str(raw, "via_bot")
    return optional_str(raw, "forwarded_from") or optional_str(raw, "saved_from") or (via and f"via {via}")


def _rename_topic(chat: Chat, raw: dict[str, Any]) -> None:
    """Telegram Desktop writes `topic_edit` without the topic's id; a rename that names it
    (`reply_to_message_id`) is followed, the others cannot be placed."""
    title = clip(optional_str(raw, "new_title"))
    topic = optional_int(raw, "reply_to_message_id")
    if title and topic in chat.topics:
        chat.topics[topic] = title
