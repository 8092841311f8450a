"""Writes core/telegram/demo_export.json: the demo team chat `tracker demo` imports.

    uv run python -m evals.make_demo_chat

A Telegram Desktop export of a made-up product team ("Кошик", a grocery delivery app)
over four days, in Ukrainian, Russian, English and the mix of them teams write: bugs,
requests, questions, chores, small talk, reply threads, a forum topic for a release,
photos with captions, a forward and a few service messages. Every line was written
for this project; the lines are in evals/demo_chat.txt:

    DAY HH:MM author [=Tnn] [#label] [^label] [topic] [photo] [fwd:Name] | text

#label names a message, ^label replies to one, `topic` posts in the release topic.
=Tnn is the gold task the message belongs to (none: part of no task), labelled by the
rules of ../shared/datasets/threads_dev.md; the export leaves it out, and
evals/make_demo_threads.py turns the chat into a conversations data set with it.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

OUT = Path(__file__).parents[1] / "core" / "telegram" / "demo_export.json"
CHAT = {"name": "Кошик · продукт", "type": "private_supergroup", "id": 1987654321}
START = datetime(2026, 11, 16, tzinfo=UTC)
PEOPLE = {
    "olena": ("Олена Коваль", 7001),
    "dmytro": ("Dmytro Shevchuk", 7002),
    "sergey": ("Сергей Литвинов", 7003),
    "anna": ("Anna Bondar", 7004),
    "max": ("Максим", 7005),
    "kate": ("Kate Morris", 7006),
    "igor": ("Ігор Мельник", 7007),
    "yulia": ("Юля Савчук", 7008),
}
TOPIC = "Реліз 2.4"

DEMO_SCRIPT = Path(__file__).with_name("demo_chat.txt")
"""The chat itself, one message a line (format above)."""

SERVICE: list[tuple[int, str, str, dict[str, Any]]] = [
    (1, "12:02", "olena", {"action": "topic_created", "title": TOPIC}),
    (2, "10:00", "yulia", {"action": "invite_members", "members": ["Тарас Гнатюк"]}),
    (3, "09:01", "olena", {"action": "pin_message", "message_id": 0}),
    (4, "09:39", "olena", {"action": "invite_members", "members": ["Tracker Bot"]}),
]
STICKERS = [(1, "10:04", "max", "🍕"), (3, "11:12", "kate", "☕"), (4, "16:34", "max", "🚀")]
LINE = re.compile(r"^(\d) (\d\d:\d\d) (\w+)((?: =T\d+| [#^]\w+| topic| photo| fwd:[^|]+)*) \| (.*)$")
TASK_MARK = re.compile(r" =(T\d+)")
URL_OR_MENTION = re.compile(r"(https?://\S+|@\w+|#\d+)")


def main() -> None:
    export, _ = demo_export()
    OUT.write_text(export_json(export))
    print(f"{OUT}: {len(export['messages'])} messages")


def export_json(export: dict[str, Any]) -> str:
    """The export as the file holds it."""
    return json.dumps(export, ensure_ascii=False, indent=1) + "\n"


def demo_export() -> tuple[dict[str, Any], dict[int, str | None]]:
    """The export, and the gold task (`T07`, None: no task) of each chat message by its
    export id; service messages have none."""
    events = sorted(_messages() + _service() + _stickers(), key=lambda m: (m["_at"], m["_order"]))
    ids: dict[str, int] = {}
    topic_id = 0
    export_messages = []
    tasks: dict[int, str | None] = {}
    for number, raw in enumerate(events, start=1):
        if raw["type"] == "message":
            tasks[number] = raw.get("_task")
        message = {"id": number, **{k: v for k, v in raw.items() if not k.startswith("_")}}
        if raw.get("action") == "topic_created":
            topic_id = number
        if raw.get("action") == "pin_message":
            message["message_id"] = ids["slots"] if "slots" in ids else number - 1
        if raw.get("_label"):
            ids[raw["_label"]] = number
        if raw.get("_reply"):
            message["reply_to_message_id"] = ids[raw["_reply"]]
        elif raw.get("_topic"):
            message["reply_to_message_id"] = topic_id
        export_messages.append(message)
    return {**CHAT, "messages": export_messages}, tasks


def _messages() -> list[dict[str, Any]]:
    found = []
    lines = [line for line in DEMO_SCRIPT.read_text(encoding="utf-8").splitlines() if line.strip()]
    for order, line in enumerate(lines):
        match = LINE.match(line)
        if match is None:
            raise ValueError(f"bad line: {line}")
        day, hhmm, who, flags, text = match.groups()
        message = _base(int(day), hhmm, who, order) | {"type": "message", "text": _text(text)}
        task = TASK_MARK.search(flags)
        if task:
            message["_task"] = task.group(1)
            flags = TASK_MARK.sub("", flags)
        forwarded = re.search(r"fwd:(.+)$", flags)
        if forwarded:
            message["forwarded_from"] = forwarded.group(1).strip()
            flags = flags[: forwarded.start()]
        for flag in flags.split():
            if flag.startswith("#"):
                message["_label"] = flag[1:]
            elif flag.startswith("^"):
                message["_reply"] = flag[1:]
            elif flag == "topic":
                message["_topic"] = True
            elif flag == "photo":
                message |= {"photo": "(File not included. Change data exporting settings to download.)",
                            "width": 1280, "height": 960}  # fmt: skip
        found.append(message)
    return found


def _service() -> list[dict[str, Any]]:
    return [
        _base(day, hhmm, who, 10_000 + i, actor=True) | {"type": "service", "text": ""} | extra
        for i, (day, hhmm, who, extra) in enumerate(SERVICE)
    ]


def _stickers() -> list[dict[str, Any]]:
    return [
        _base(day, hhmm, who, 20_000 + i)
        | {
            "type": "message",
            "text": "",
            "media_type": "sticker",
            "sticker_emoji": emoji,
            "file": "(File not included. Change data exporting settings to download.)",
        }
        for i, (day, hhmm, who, emoji) in enumerate(STICKERS)
    ]


def _base(day: int, hhmm: str, who: str, order: int, actor: bool = False) -> dict[str, Any]:
    hours, minutes = map(int, hhmm.split(":"))
    at = START + timedelta(days=day - 1, hours=hours - 2, minutes=minutes)  # Kyiv time is UTC+2
    name, user_id = PEOPLE[who]
    who_keys = ("actor", "actor_id") if actor else ("from", "from_id")
    local = (at + timedelta(hours=2)).replace(tzinfo=None).isoformat()
    return {
        "_at": at, "_order": order, "date": local, "date_unixtime": str(int(at.timestamp())),
        who_keys[0]: name, who_keys[1]: f"user{user_id}",
    }  # fmt: skip


def _text(text: str) -> str | list[Any]:
    """Plain text, or Telegram's array of strings and entities when it has links or mentions."""
    parts = URL_OR_MENTION.split(text)
    if len(parts) == 1:
        return text
    entities: list[Any] = []
    for part in parts:
        if URL_OR_MENTION.fullmatch(part):
            kind = "link" if part.startswith("http") else "mention" if part.startswith("@") else "hashtag"
            entities.append({"type": kind, "text": part})
        elif part:
            entities.append(part)
    return entities


if __name__ == "__main__":
    main()
