"""Labeled examples and JSON Lines data sets (`text`, `kind`; `priority`, `reply_to`, `id`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from core.models import Kind, Priority

SEED_PATH = Path(__file__).resolve().parents[2] / "evals" / "datasets" / "seed.jsonl"
"""The project's own labeled seed examples (shipped beside the code)."""


class DatasetError(ValueError):
    """A data set cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class Example:
    """One labeled message."""

    text: str
    kind: Kind
    priority: Priority | None = None
    reply_to: str | None = None
    id: str | None = None


def _fail(path: Path | str, line_no: int, why: str) -> DatasetError:
    return DatasetError(f"{path}:{line_no}: {why}")


def _enum(cls: type[Kind] | type[Priority], value: object, field: str) -> str:
    allowed = ", ".join(m.value for m in cls)
    if not isinstance(value, str) or value.strip().lower() not in {m.value for m in cls}:
        raise ValueError(f"unknown {field} {value!r} (expected one of: {allowed})")
    return value.strip().lower()


def _optional_str(row: dict[str, object], field: str) -> str | None:
    value = row.get(field)
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and field == "id":
        return str(value)
    if not isinstance(value, str):
        raise ValueError(f"field {field!r} must be a string or null, got {type(value).__name__}")
    return value


def parse_example(row: object) -> Example:
    """Validate one decoded JSON object; raises ValueError saying what is wrong."""
    if not isinstance(row, dict):
        raise ValueError(f"expected a JSON object, got {type(row).__name__}")
    missing = [f for f in ("text", "kind") if f not in row or row[f] is None]
    if missing:
        raise ValueError(f"missing required field(s): {', '.join(missing)}")
    if not isinstance(row["text"], str) or not row["text"].strip():
        raise ValueError("field 'text' must be a non-empty string")
    kind = Kind(_enum(Kind, row["kind"], "kind"))
    prio = row.get("priority")
    priority = None if prio in (None, "") else Priority(_enum(Priority, prio, "priority"))
    return Example(
        text=row["text"], kind=kind, priority=None if kind == Kind.noise else priority,
        reply_to=_optional_str(row, "reply_to"), id=_optional_str(row, "id"),
    )  # fmt: skip


def parse_lines(lines: Iterable[str], source: Path | str = "<data>") -> list[Example]:
    """Parse JSON Lines text (blank lines skipped); errors name the line."""
    examples: list[Example] = []
    for no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise _fail(source, no, f"malformed JSON ({e.msg} at column {e.colno})") from None
        try:
            examples.append(parse_example(row))
        except ValueError as e:
            raise _fail(source, no, str(e)) from None
    if not examples:
        raise DatasetError(f"{source}: empty data set (no JSON lines)")
    return [e if e.id else _with_id(e, i) for i, e in enumerate(examples, start=1)]


def _with_id(example: Example, index: int) -> Example:
    return Example(**{**asdict(example), "id": str(index)})


def load_jsonl(path: Path | str) -> list[Example]:
    """Read a JSON Lines data set; DatasetError names the line of any problem."""
    p = Path(path)
    if not p.is_file():
        raise DatasetError(f"{p}: no such file")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise DatasetError(f"{p}: not UTF-8 text ({e.reason})") from None
    return parse_lines(text.splitlines(), p)


def seed_examples() -> list[Example]:
    """The project's own seed examples."""
    return load_jsonl(SEED_PATH)


def data_hash(examples: Iterable[Example]) -> str:
    """A stable hash of the training data (order-independent)."""
    rows = sorted(
        json.dumps([e.text, e.kind.value, e.priority and e.priority.value, e.reply_to],
                   ensure_ascii=False)
        for e in examples
    )  # fmt: skip
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()
