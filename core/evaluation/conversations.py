"""Conversation data sets and the tasks scored on them.

A data set is two JSON Lines files in the threads_dev format (fields in its README): chat
messages with the gold task each belongs to, and the gold tasks. Errors name the file, the
line and the field. Gold and system tasks are plain data for core.evaluation.conversations_score.
"""

from __future__ import annotations

import json
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, StringConstraints, ValidationError, field_validator

from core.classification.dataset import DatasetError
from core.models import Kind, Priority

REPO = Path(__file__).resolve().parents[2]
"""The repository: our data sets are in evals/datasets, the shared ones in ../shared/datasets."""
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Row = TypeVar("Row", bound=BaseModel)

# Ukrainian national transliteration (KMU 2010), which the gold assignee tokens follow.
_KMU = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie", "ж": "zh",
    "з": "z", "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n",
    "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ь": "", "ю": "iu", "я": "ia", "'": "", "’": "",
}  # fmt: skip
_KMU_FIRST = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}
"""At the start of a word these letters have their own forms."""


@dataclass(frozen=True)
class GoldTask:
    """A task a careful reader wrote down: its messages and its final labels."""

    id: str
    messages: frozenset[str]
    root: str
    kind: str
    priority: str
    status: str
    assignee: str | None = None
    duplicate_of: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class SystemTask:
    """A task the system opened: the messages it holds and its state at the end."""

    id: Hashable
    messages: frozenset[str]
    kind: str
    priority: str
    status: str
    assignee: str | None = None
    merged_into: Hashable | None = None
    title: str | None = None


class ChatMessage(BaseModel):
    """One line of a messages file: a chat message and its gold task (None: part of no task)."""

    model_config = ConfigDict(frozen=True, coerce_numbers_to_str=True)

    id: Name
    chat_id: Name
    chat_title: str | None = None
    topic: str | None = None
    sent_at: AwareDatetime
    author_id: str | None = None
    author: str | None = None
    text: str
    reply_to: str | None = None
    edited: bool = False
    task: str | None = None


class GoldTaskRow(BaseModel):
    """One line of a gold tasks file: the task a careful reader wrote down."""

    model_config = ConfigDict(frozen=True)

    task: Name
    kind: Kind
    priority: Priority
    status: Literal["new", "in_progress", "done", "answered", "cancelled"]
    assignee: str | None = None
    duplicate_of: str | None = None
    root: Name
    title: str | None = None

    @field_validator("kind")
    @classmethod
    def _actionable(cls, kind: Kind) -> Kind:
        if kind == Kind.noise:
            raise ValueError("a task is a bug, feature, question or task, never noise")
        return kind


@dataclass(frozen=True)
class Conversations:
    """The messages of a data set (in file order) and its gold tasks."""

    messages: list[ChatMessage]
    gold_tasks: list[GoldTask]


@dataclass(frozen=True)
class ConversationSet:
    """A conversations data set's two files, and what people call it."""

    name: str
    messages: Path
    tasks: Path


def known_sets(root: Path = REPO) -> list[ConversationSet]:
    """The data sets to offer, the default first: threads_dev when ../shared holds it
    (evaluation only, read in place), then our demo chat."""
    ours, shared = root / "evals" / "datasets", root.parent / "shared" / "datasets"
    demo = ConversationSet("demo chat (ours)", ours / "demo_threads.jsonl", ours / "demo_threads_tasks.jsonl")
    dev = ConversationSet(
        "threads_dev (shared, evaluation only)",
        shared / "threads_dev.jsonl",
        shared / "threads_dev_tasks.jsonl",
    )
    return [dev, demo] if dev.messages.is_file() and dev.tasks.is_file() else [demo]


def read_rows(path: Path | str, model: type[Row]) -> list[tuple[int, Row]]:
    """The rows of a JSON Lines file with their line numbers (blank lines skipped)."""
    p = Path(path)
    if not p.is_file():
        raise DatasetError(f"{p}: no such file")
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as e:
        raise DatasetError(f"{p}: not UTF-8 text ({e.reason})") from None
    rows = [(no, _parse(p, no, line, model)) for no, line in enumerate(lines, start=1) if line.strip()]
    if not rows:
        raise DatasetError(f"{p}: empty (no JSON lines)")
    return rows


def _parse(path: Path, no: int, line: str, model: type[Row]) -> Row:
    try:
        return model.model_validate(json.loads(line))
    except json.JSONDecodeError as e:
        raise DatasetError(f"{path}:{no}: malformed JSON ({e.msg} at column {e.colno})") from None
    except ValidationError as e:
        problems = "; ".join(
            f"field {'.'.join(map(str, err['loc'])) or '(line)'!r}: {err['msg']}" for err in e.errors()
        )
        raise DatasetError(f"{path}:{no}: {problems}") from None


def load_conversations(messages_path: Path | str, tasks_path: Path | str) -> Conversations:
    """Read a messages file and its gold tasks file, checking that they agree."""
    messages = read_rows(messages_path, ChatMessage)
    tasks = read_rows(tasks_path, GoldTaskRow)
    return Conversations([m for _, m in messages], gold_tasks(messages, tasks, messages_path, tasks_path))


def gold_tasks(
    messages: list[tuple[int, ChatMessage]],
    tasks: list[tuple[int, GoldTaskRow]],
    messages_path: Path | str = "<messages>",
    tasks_path: Path | str = "<tasks>",
) -> list[GoldTask]:
    """The gold tasks with their messages; DatasetError names the line that does not fit."""
    _unique(messages_path, [(no, m.id) for no, m in messages], "id")
    _unique(tasks_path, [(no, row.task) for no, row in tasks], "task")
    task_of = {m.id: m.task for _, m in messages}
    originals = {row.task for _, row in tasks if row.duplicate_of is None}
    members: dict[str, set[str]] = {row.task: set() for _, row in tasks}
    for no, message in messages:
        if message.task is not None and message.task not in members:
            raise DatasetError(f"{messages_path}:{no}: field 'task': {message.task!r} is not in {tasks_path}")
        if message.task is not None:
            members[message.task].add(message.id)
    for no, row in tasks:
        _check_links(row, task_of, originals, f"{tasks_path}:{no}")
    return [
        GoldTask(id=row.task, messages=frozenset(members[row.task]), root=row.root, kind=row.kind.value,
                 priority=row.priority.value, status=row.status, assignee=row.assignee,
                 duplicate_of=row.duplicate_of, title=row.title)
        for _, row in tasks
    ]  # fmt: skip


def _unique(path: Path | str, keys: list[tuple[int, str]], field: str) -> None:
    """DatasetError at the second line of a key."""
    seen: dict[str, int] = {}
    for no, key in keys:
        if key in seen:
            raise DatasetError(f"{path}:{no}: field {field!r}: {key!r} is already on line {seen[key]}")
        seen[key] = no


def _check_links(row: GoldTaskRow, task_of: dict[str, str | None], originals: set[str], where: str) -> None:
    """The root is one of the task's own messages; a duplicate names an original task."""
    if row.root not in task_of:
        raise DatasetError(f"{where}: field 'root': no message {row.root!r}")
    if task_of[row.root] != row.task:
        raise DatasetError(f"{where}: field 'root': message {row.root!r} belongs to {task_of[row.root]!r}")
    if row.duplicate_of is not None and row.duplicate_of not in originals:
        raise DatasetError(f"{where}: field 'duplicate_of': {row.duplicate_of!r} is no original task")


def assignee_token(name: str | None) -> str | None:
    """The first word of a name in lower case, Cyrillic transliterated (KMU 2010): `dima`."""
    words = (name or "").lower().split()
    return _transliterate(words[0]) if words else None


def _transliterate(word: str) -> str:
    letters = []
    for i, c in enumerate(word):
        if i == 0 and c in _KMU_FIRST:
            letters.append(_KMU_FIRST[c])
        elif c == "г" and word[i - 1 : i] == "з":
            letters.append("gh")  # KMU 2010 keeps "зг" (zgh) apart from "ж" (zh)
        else:
            letters.append(_KMU.get(c, c))
    return "".join(letters)
