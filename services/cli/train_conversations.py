"""`tracker train --conversations FILE --tasks FILE`: fit the conversation scorer on a labelled chat.

Writes core/conversations/scorer.json (or --out): the logistic weights placement uses.
Train on our own chats only (evals/datasets/demo_threads*.jsonl); the threads_dev set is for
evaluation.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from core.config import get_settings
from core.conversations import scorer, training
from core.conversations.features import NAMES
from core.evaluation.conversations import load_conversations
from core.evaluation.conversations_replay import labelled_messages
from core.evaluation.runs import RunSpec, build
from services.cli.output import console


def train_scorer(conversations: Path, tasks: Path, out: Path | None) -> None:
    data = load_conversations(conversations, tasks)
    classifier = build(RunSpec("local"), get_settings())
    messages = asyncio.run(labelled_messages(data, classifier))
    fitted = training.train(messages, trained_on=conversations.name)
    target = out or scorer.SHIPPED
    fitted.save(target)
    console.print(f"conversation scorer trained on {len(messages)} messages of {conversations} -> {target}")
    for name, weight in zip(NAMES, fitted.weights, strict=True):
        console.print(f"  {name:>14} {weight:+.3f}")
    console.print(f"  {'bias':>14} {fitted.bias:+.3f}")
