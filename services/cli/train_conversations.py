"""`tracker train --conversations FILE --tasks FILE [...]`: fit the conversation scorer on
labelled chats.

Writes core/conversations/scorer.json (or --out): the logistic weights placement uses. Each
`--conversations` goes with the `--tasks` in the same place; several sets are replayed
together (their chats stay apart: candidates are the message's own chat's conversations).
Train on our own chats only (evals/datasets/demo_threads*.jsonl, team_threads*.jsonl); the
threads_dev set is for evaluation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from core.classification.dataset import DatasetError
from core.classification.types import Classifier
from core.config import get_settings
from core.conversations import scorer, training
from core.conversations.features import NAMES
from core.evaluation.conversations import load_conversations
from core.evaluation.conversations_replay import labelled_messages
from core.evaluation.runs import RunSpec, build
from services.cli.output import console


def train_scorer(
    sets: Sequence[tuple[Path, Path]], out: Path | None, corrected: Sequence[training.Labelled] = ()
) -> None:
    """Fit on the labelled (messages, gold tasks) sets and the chats people regrouped
    (`corrected`), together, and write the scorer."""
    classifier = build(RunSpec("local"), get_settings())
    per_set = [_labelled(conversations, tasks, classifier) for conversations, tasks in sets]
    if corrected:
        per_set.append(list(corrected))
    _refuse_overlaps(per_set)
    messages = [m for labelled in per_set for m in labelled]
    if not messages:
        raise DatasetError("nothing to train on: no labelled chat, and no merge or move in the database")
    names = ", ".join(
        [*(conversations.name for conversations, _ in sets), *(["corrections"] if corrected else [])]
    )
    fitted = training.train(messages, trained_on=names)
    target = out or scorer.SHIPPED
    fitted.save(target)
    console.print(f"conversation scorer trained on {len(messages)} messages of {names} -> {target}")
    for name, weight in zip(NAMES, fitted.weights, strict=True):
        console.print(f"  {name:>14} {weight:+.3f}")
    console.print(f"  {'bias':>14} {fitted.bias:+.3f}")


def _labelled(conversations: Path, tasks: Path, classifier: Classifier) -> list[training.Labelled]:
    return asyncio.run(labelled_messages(load_conversations(conversations, tasks), classifier))


def _refuse_overlaps(per_set: Sequence[Sequence[training.Labelled]]) -> None:
    """Sets are replayed together, so a message id or a gold task id in two of them would
    merge what is apart: DatasetError naming it."""
    seen: set[str] = set()
    for labelled in per_set:
        ids = {m.id for m in labelled} | {f"task {m.group}" for m in labelled if m.group}
        if repeated := sorted(ids & seen):
            raise DatasetError(f"{repeated[0]!r} is in more than one --conversations set; ids must differ")
        seen |= ids
