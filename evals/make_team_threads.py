"""Writes evals/datasets/team_threads.jsonl: five team chats of ours as a conversations data set.

    uv run python -m evals.make_team_threads

The chats are written by hand in evals/team_chat.txt (a logistics SaaS with forum topics, a
small e-shop, a mobile game studio, a payroll SaaS's support and developers, a food delivery
service's ops and developers; all people and numbers invented) with the hard patterns
the conversation scorer must learn: follow-ups that are not replies and share no words with
the report, "гляну" then a diagnosis half an hour later, next-morning references by topic
word, interleaved conversations, small talk inside and replying to work, duplicate reports,
and new work from someone busy in another conversation (relayed customer problems one after
another, a developer in one bug posting another): its own task.
Each line is one message:

    HH:MM person [=T07] [#label] [^label] [@topic] [~] [:lang] | text

`=T07` its gold task (none: small talk), `#label` names it for a later `^label` reply, `@topic`
the forum topic (a key from the chat's `topic` lines), `~` edited, `:lang` overrides the
language guess. `chat ID LETTER TITLE`, `person KEY ID LANG NAME`, `topic KEY TITLE` and
`day YYYY-MM-DD` lines set the scene. The gold tasks are labelled by hand in
evals/datasets/team_threads_tasks.jsonl; this script fills in each one's `root` and checks
that the chat and the gold rows name the same tasks. The project wrote every line: it may be
used for training (the threads_dev set stays evaluation-only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from evals.make_demo_threads import KYIV, gold_tasks, jsonl_text, language, read_jsonl

SCRIPT = Path(__file__).with_name("team_chat.txt")
DATASETS = Path(__file__).with_name("datasets")
MESSAGES = DATASETS / "team_threads.jsonl"
TASKS = DATASETS / "team_threads_tasks.jsonl"


@dataclass
class _Chat:
    id: int
    letter: str
    title: str
    people: dict[str, tuple[int, str, str]] = field(default_factory=dict)
    """key -> (author id, name, usual language)"""
    topics: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    day: str = ""
    count: int = 0


def main() -> None:
    messages = team_threads(SCRIPT.read_text(encoding="utf-8"))
    tasks = gold_tasks(messages, read_jsonl(TASKS), TASKS)
    MESSAGES.write_text(jsonl_text(messages), encoding="utf-8")
    TASKS.write_text(jsonl_text(tasks), encoding="utf-8")
    print(f"{MESSAGES}: {len(messages)} messages; {TASKS}: {len(tasks)} gold tasks")


def team_threads(script: str) -> list[dict[str, Any]]:
    """The script's messages as data set rows, in the order written (time order per chat)."""
    rows: list[dict[str, Any]] = []
    chat: _Chat | None = None
    for number, line in enumerate(script.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("//"):
            continue
        head, _, rest = line.partition(" ")
        if head == "chat":
            chat_id, letter, title = rest.split(" ", 2)
            chat = _Chat(int(chat_id), letter, title)
        elif chat is None:
            raise ValueError(f"{SCRIPT}:{number}: a `chat` line must come first")
        elif head in ("person", "topic", "day"):
            _scene(chat, head, rest)
        else:
            rows.append(_message(chat, line, f"{SCRIPT}:{number}"))
    return rows


def _scene(chat: _Chat, head: str, rest: str) -> None:
    if head == "person":
        key, author_id, usual, name = rest.split(" ", 3)
        chat.people[key] = (int(author_id), name, usual)
    elif head == "topic":
        key, title = rest.split(" ", 1)
        chat.topics[key] = title
    else:
        chat.day = rest


def _message(chat: _Chat, line: str, where: str) -> dict[str, Any]:
    meta, separator, text = line.partition(" | ")
    if not separator:
        raise ValueError(f"{where}: no ' | ' before the text")
    clock, who, *marks = meta.split()
    chat.count += 1
    sent_at = datetime.fromisoformat(f"{chat.day}T{clock}").replace(tzinfo=KYIV)
    row: dict[str, Any] = {
        "id": f"{chat.letter}-{chat.count:04d}", "chat_id": chat.id, "chat_title": chat.title,
        "topic": None, "sent_at": sent_at.isoformat(),
        "author_id": chat.people[who][0], "author": chat.people[who][1], "text": text.strip(),
        "reply_to": None, "edited": False, "task": None, "lang": None,
    }  # fmt: skip
    for mark in marks:
        _apply(chat, row, mark, where)
    row["lang"] = row["lang"] or language(row["text"], chat.people[who][2])
    return row


def _apply(chat: _Chat, row: dict[str, Any], mark: str, where: str) -> None:
    sign, value = mark[0], mark[1:]
    if sign == "=":
        row["task"] = f"{chat.letter.upper()}-{value}"
    elif sign == "#":
        chat.labels[value] = row["id"]
    elif sign == "^":
        row["reply_to"] = chat.labels[value]
    elif sign == "@":
        row["topic"] = chat.topics[value]
    elif sign == "~":
        row["edited"] = True
    elif sign == ":":
        row["lang"] = value
    else:
        raise ValueError(f"{where}: unknown mark {mark!r}")


if __name__ == "__main__":
    main()
