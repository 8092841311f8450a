"""Writes evals/datasets/demo_threads.jsonl: the demo chat as a conversations data set.

    uv run python -m evals.make_demo_threads

The messages of the demo export (evals/make_demo_chat.py), read as `tracker demo` imports
them, in the threads_dev format (../shared/datasets/README.md), each with the gold task its
`=Tnn` marker in evals/demo_chat.txt names. The gold tasks are labelled by hand in
evals/datasets/demo_threads_tasks.jsonl; this script fills in each one's `root` (its first
message) and checks that every task in the chat has a gold row and every gold row messages.
The project wrote every line of both files: they may be used for training.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from core.telegram.export import CountingReader, ExportReader
from evals.make_demo_chat import PEOPLE, demo_export

DATASETS = Path(__file__).with_name("datasets")
MESSAGES = DATASETS / "demo_threads.jsonl"
TASKS = DATASETS / "demo_threads_tasks.jsonl"
KYIV = ZoneInfo("Europe/Kyiv")
USUAL_LANGUAGE = {
    "olena": "uk", "dmytro": "uk", "sergey": "ru", "anna": "en",
    "max": "ru", "kate": "en", "igor": "uk", "yulia": "uk",
}  # fmt: skip
"""The language each person writes in: a message without words carries its author's."""
LANGUAGE_OF = {name: USUAL_LANGUAGE[key] for key, (name, _) in PEOPLE.items()}
TASK_FIELDS = ("task", "kind", "priority", "title", "status", "assignee", "duplicate_of", "root", "note")
WORD = re.compile(r"[^\W\d_]+")
LATIN = re.compile(r"[A-Za-z]+")
SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
UK_LETTERS, RU_LETTERS = set("іїєґ"), set("ыэъё")


def main() -> None:
    messages = demo_threads()
    tasks = gold_tasks(messages, read_jsonl(TASKS), TASKS)
    MESSAGES.write_text(jsonl_text(messages), encoding="utf-8")
    TASKS.write_text(jsonl_text(tasks), encoding="utf-8")
    print(f"{MESSAGES}: {len(messages)} messages; {TASKS}: {len(tasks)} gold tasks")


def demo_threads() -> list[dict[str, Any]]:
    """The demo chat's messages (service messages skipped) as data set rows, in time order."""
    export, tasks = demo_export()
    raw = io.BytesIO(json.dumps(export, ensure_ascii=False).encode())
    rows = [row for row in ExportReader(zone=KYIV).read(CountingReader(raw)) if int(row.external_id) in tasks]
    ids = {row.external_id: f"k-{number:04d}" for number, row in enumerate(rows, start=1)}
    return [
        {
            "id": ids[row.external_id], "chat_id": int(row.chat_id), "chat_title": row.chat_title,
            "topic": row.thread_title, "sent_at": row.sent_at.astimezone(KYIV).isoformat(),
            "author_id": int(row.author_id), "author": row.author, "text": row.text,
            "reply_to": ids[row.reply_to_external_id] if row.reply_to_external_id else None,
            "edited": row.edited_at is not None, "task": task_id(tasks[int(row.external_id)]),
            "lang": language(row.text, LANGUAGE_OF[row.author]),
        }
        for row in rows
    ]  # fmt: skip


def task_id(marker: str | None) -> str | None:
    """`T07` in the chat script -> `K-T07` in the data set (None: no task)."""
    return f"K-{marker}" if marker else None


def language(text: str, usual: str) -> str:
    """A guess: Cyrillic text (two Cyrillic words or more, not all single letters) is
    Ukrainian or Russian by its letters, `mixed` with both or with an English sentence of
    three words or more beside it; English terms inside a sentence do not count. Other text
    with Latin words is English; no words, or no telling letters, the author's usual."""
    words = WORD.findall(text)
    cyrillic = [w for w in words if not LATIN.fullmatch(w)]
    if len(cyrillic) < 2 or max(map(len, cyrillic)) < 2:
        return "en" if len(cyrillic) < len(words) else usual
    letters = set("".join(cyrillic).lower())
    uk, ru = bool(letters & UK_LETTERS), bool(letters & RU_LETTERS)
    if (uk and ru) or any(_english(sentence) for sentence in SENTENCE_END.split(text)):
        return "mixed"
    return "uk" if uk else "ru" if ru else usual


def _english(sentence: str) -> bool:
    words = WORD.findall(sentence)
    return len(words) >= 3 and all(LATIN.fullmatch(w) for w in words)


def gold_tasks(
    messages: list[dict[str, Any]], rows: list[dict[str, Any]], path: Path = TASKS
) -> list[dict[str, Any]]:
    """The hand-labelled gold tasks, each with its first message as `root`; ValueError when
    the chat and the gold rows do not name the same tasks."""
    first: dict[str, str] = {}
    for message in messages:
        if message["task"]:
            first.setdefault(message["task"], message["id"])
    labelled = [row["task"] for row in rows]
    if missing := sorted(set(first) - set(labelled)):
        raise ValueError(f"{path}: no gold row for {', '.join(missing)} (marked in the chat)")
    if unused := sorted(set(labelled) - set(first)):
        raise ValueError(f"{path}: no message of the chat is marked {', '.join(unused)}")
    return [
        {field: first[row["task"]] if field == "root" else row.get(field) for field in TASK_FIELDS}
        for row in rows
    ]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def jsonl_text(rows: Iterable[dict[str, Any]]) -> str:
    """The rows as the files hold them: one JSON object a line."""
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


if __name__ == "__main__":
    main()
