"""What a message says: its text with every entity's meaning, and the kind of what it carries.

`text` is a string, or an array of strings and entity objects (`{"type", "text", ...}`); the
`text_entities` array that exports carry since September 2022 holds the same parts, so it is
not read. Links written as words (`text_link`) keep their URL in the stored text; mentions
of users without a username (`mention_name`) keep the name shown; custom emoji their emoji.
"""

from __future__ import annotations

from typing import Any

from core.channels.fields import Invalid

MEDIA_TYPES = {
    "sticker": "sticker", "video_message": "video_note", "voice_message": "voice",
    "animation": "animation", "video_file": "video", "audio_file": "audio",
}  # fmt: skip
"""The export's `media_type` -> the kind the bot stores for the same message (Bot API names)."""
MEDIA_KEYS = (
    ("photo", "photo"), ("poll", "poll"), ("todo_list", "checklist"), ("place_name", "venue"),
    ("location_information", "location"), ("contact_information", "contact"), ("game_title", "game"),
    ("invoice_information", "invoice"), ("giveaway_information", "giveaway"),
    ("giveaway_results", "giveaway"), ("paid_stars_amount", "paid_media"), ("file", "document"),
)  # fmt: skip
"""A field that only a kind of message has -> that kind, for messages without `media_type`."""
_MEDIA_KEYS = {key for key, _ in MEDIA_KEYS}


def message_text(value: object) -> str:
    """Export text: a string, or an array of strings and entity objects."""
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
    if not isinstance(part, dict) or not isinstance(part.get("text", ""), str):
        raise Invalid(f"'text' array items must be strings or entity objects, not {part!r:.60}")
    text = str(part.get("text", ""))
    kind = part.get("type")
    if kind == "text_link":
        href = part.get("href")
        if isinstance(href, str) and href and href not in text:
            return f"{text} ({href})" if text else href
    elif kind == "mention_name" and not text and part.get("user_id") is not None:
        return f"user {part['user_id']}"
    return text


def media_kind(raw: dict[str, Any]) -> str | None:
    """What the message carries besides text, by the Bot API's name for it."""
    media = raw.get("media_type")
    if isinstance(media, str):
        return MEDIA_TYPES.get(media, media[:32])
    if _MEDIA_KEYS.isdisjoint(raw):  # most messages: text only (one pass in C)
        return None
    for key, kind in MEDIA_KEYS:
        if key in raw:
            return kind
    return None


def attached_text(raw: dict[str, Any], kind: str | None) -> str:
    """Text a message without its own carries: a poll's or a to-do list's question and options
    (people write those), a sticker's emoji."""
    if kind == "poll":
        poll = _object(raw, "poll")
        return _listed(poll.get("question"), poll.get("answers"), "poll")
    if kind == "checklist":
        todo = _object(raw, "todo_list")
        return _listed(todo.get("title"), todo.get("answers", todo.get("items")), "todo_list")
    if kind == "sticker":
        emoji = raw.get("sticker_emoji")
        return emoji if isinstance(emoji, str) else ""
    return ""


def _object(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key)
    if not isinstance(value, dict):
        raise Invalid(f"'{key}' must be an object, not {value!r:.40}")
    return value


def _listed(title: object, options: object, key: str) -> str:
    """The title, then one line an option."""
    if options is None:
        options = []
    if not isinstance(options, list) or not all(isinstance(o, dict) for o in options):
        raise Invalid(f"'{key}' options must be an array of objects, not {options!r:.40}")
    lines = [message_text(title), *(f"- {message_text(option.get('text'))}" for option in options)]
    return "\n".join(line for line in lines if line.strip())
