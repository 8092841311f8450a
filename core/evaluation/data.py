"""Where evaluation data comes from: triaged messages, JSON Lines files, the seed set's held-out part.

Each source gives an `EvalData` whose name is what an EvalRun records (`db` = the triaged
messages, as `tracker eval --dataset db` records it). `choose_data` falls back to the best
source available and says why the one asked for could not be used.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from sqlmodel import Session

from core.classification.dataset import SEED_PATH, DatasetError, Example, data_hash, load_jsonl
from core.classification.local.classifier import LocalClassifier
from core.classification.local.model import train
from core.classification.local.store import load_model, models_dir, save_model
from core.classification.local.training import human_label_examples
from core.classification.types import MessageInput
from core.models import Kind

TRIAGED = "db"
SEED_HELD_OUT = "seed:held-out"
HELD_OUT_SHARE = 0.2
Source = Literal["db", "file", "seed"]


@dataclass(frozen=True)
class EvalData:
    """Labeled examples, the name a saved run records, and a sentence on where they came from."""

    name: str
    examples: list[Example]
    description: str


class UnlabeledDataset(DatasetError):
    """A data set whose lines have text but no kind: it can be classified, not scored."""

    def __init__(self, path: Path | str, messages: list[MessageInput]) -> None:
        super().__init__(
            f"{path}: no labels (no line has a `kind`); its messages can be classified, not scored"
        )
        self.messages = messages


def triaged(session: Session) -> EvalData:
    """The messages people triaged, each with its latest human label and reply-to text."""
    rows = human_label_examples(session)
    return EvalData(TRIAGED, rows, f"{len(rows)} messages people triaged (latest human label of each)")


def from_file(path: Path | str) -> EvalData:
    """A JSON Lines data set; UnlabeledDataset when it has texts but no kinds."""
    try:
        rows = load_jsonl(path)
    except DatasetError:
        messages = _unlabeled_messages(Path(path))
        if messages:
            raise UnlabeledDataset(path, messages) from None
        raise
    return EvalData(str(path), rows, f"{len(rows)} labeled messages from {path}")


def _unlabeled_messages(path: Path) -> list[MessageInput]:
    """The messages of a readable JSON Lines file where no line has a kind, else []."""
    try:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return []
    if not rows or not all(isinstance(r, dict) and isinstance(r.get("text"), str) for r in rows):
        return []
    if any(r.get("kind") not in (None, "") for r in rows):
        return []
    return [MessageInput(str(r.get("id") or i), r["text"], r.get("reply_to") or None)
            for i, r in enumerate(rows, start=1)]  # fmt: skip


def _rank(example: Example) -> str:
    """A stable pseudo-random order, independent of the file's line order."""
    return hashlib.sha256(f"{example.id}\n{example.text}".encode()).hexdigest()


def seed_split(
    share: float = HELD_OUT_SHARE, path: Path | str = SEED_PATH
) -> tuple[list[Example], list[Example]]:
    """The seed set as (training part, held-out part): the same `share` of every kind, stable."""
    by_kind: dict[Kind, list[Example]] = defaultdict(list)
    for example in load_jsonl(path):
        by_kind[example.kind].append(example)
    train_part: list[Example] = []
    held_out: list[Example] = []
    for rows in by_kind.values():
        ranked = sorted(rows, key=_rank)
        cut = round(len(ranked) * share)
        held_out += ranked[:cut]
        train_part += ranked[cut:]
    return train_part, held_out


def seed_held_out() -> EvalData:
    """The seed set's held-out part (scored fairly only by a model trained without it)."""
    rows = seed_split()[1]
    return EvalData(SEED_HELD_OUT, rows, f"{len(rows)} held-out messages of the project's seed set")


def held_out_local(data_dir: Path | str) -> LocalClassifier:
    """A local model trained on the seed set minus its held-out part (kept under data_dir, not active)."""
    train_part = seed_split()[0]
    version = f"seed-train-{data_hash(train_part)[:8]}"
    path = models_dir(data_dir) / f"{version}.pkl"
    if path.is_file():
        return LocalClassifier(load_model(path))
    artifact = replace(train(train_part), version=version)
    save_model(artifact, data_dir, activate=False)
    return LocalClassifier(artifact)


def stratified_sample(examples: Sequence[Example], per_kind: int, seed: int = 0) -> list[Example]:
    """Up to `per_kind` examples of every kind, drawn at random (the same draw for the same seed)."""
    by_kind: dict[Kind, list[Example]] = defaultdict(list)
    for example in examples:
        by_kind[example.kind].append(example)
    rng = random.Random(seed)
    picked: list[Example] = []
    for kind in Kind:
        rows = by_kind.get(kind, [])
        picked += rng.sample(rows, min(per_kind, len(rows)))
    return picked


@dataclass
class DataChoice:
    """The data to score, what could not be used and why, and unlabeled texts that can still be classified."""

    data: EvalData
    problems: list[str] = field(default_factory=list)
    unlabeled: list[MessageInput] = field(default_factory=list)


def default_source(path: str | None) -> Source:
    """A file when one is named, else the triaged messages (choose_data says when there are none)."""
    return "file" if path else "db"


def choose_data(source: Source, path: str | None, triaged_data: EvalData | None) -> DataChoice:
    """The data asked for, or the best available one with the reason the asked-for one was not used."""
    if source == "seed":
        return DataChoice(seed_held_out())
    if source == "db":
        if triaged_data is None:
            return _fallback(None, "No database is reachable, so there are no triaged messages to score.")
        if not triaged_data.examples:
            return _fallback(None, "The database holds no triaged messages yet (triage some in the "
                                   "dashboard or the bot, or label them with the API).")  # fmt: skip
        return DataChoice(triaged_data)
    if not path:
        return _fallback(triaged_data, "No data set file given: enter the path of a JSON Lines file.")
    try:
        return DataChoice(from_file(path))
    except UnlabeledDataset as e:
        choice = _fallback(triaged_data, str(e))
        choice.unlabeled = e.messages
        return choice
    except DatasetError as e:
        return _fallback(triaged_data, str(e))


def _fallback(triaged_data: EvalData | None, problem: str) -> DataChoice:
    data = triaged_data if triaged_data and triaged_data.examples else seed_held_out()
    return DataChoice(data, [f"{problem} Scoring {data.description} instead."])


def fair_local(data: EvalData, data_dir: Path | str) -> LocalClassifier | None:
    """The local model that has not seen `data`: the held-out model for the seed's held-out part;
    None (the active model) otherwise."""
    return held_out_local(data_dir) if data.name == SEED_HELD_OUT else None
