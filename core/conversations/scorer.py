"""The conversation scorer: a logistic model over features.NAMES, stored as JSON.

`tracker train --conversations` fits it on labelled chats (our own, evals/datasets/
demo_threads*.jsonl, plus human merges and splits); the shipped file is what it wrote.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from operator import mul
from pathlib import Path

from core.conversations.features import NAMES

SHIPPED = Path(__file__).with_name("scorer.json")


@dataclass(frozen=True)
class Scorer:
    """P(message belongs to conversation) = sigmoid(bias + weights · features)."""

    weights: tuple[float, ...]
    bias: float
    threshold: float = 0.5
    """Join the best conversation when its probability reaches this."""
    trained_on: str = ""

    def probability(self, features: Sequence[float]) -> float:
        if len(features) != len(self.weights):
            raise ValueError(f"{len(features)} features for {len(self.weights)} weights")
        z = self.bias + sum(map(mul, self.weights, features))
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))

    def joins(self, features: Sequence[float]) -> bool:
        """Likely enough to join the conversation."""
        return self.probability(features) >= self.threshold

    def save(self, path: Path) -> None:
        data = {"features": list(NAMES), **asdict(self)}
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def load(path: Path = SHIPPED) -> Scorer:
    """The scorer in `path`; its features must be today's (else retrain)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if tuple(data.pop("features")) != NAMES:
        raise ValueError(f"{path}: trained on other features than {NAMES}; run tracker train --conversations")
    return Scorer(weights=tuple(data.pop("weights")), **data)


def fit(rows: Sequence[Sequence[float]], labels: Sequence[int], trained_on: str) -> Scorer:
    """A logistic regression on (features, joined?) pairs."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1.0, max_iter=2000)
    model.fit(rows, labels)
    weights = tuple(round(float(w), 4) for w in model.coef_[0])
    return Scorer(weights=weights, bias=round(float(model.intercept_[0]), 4), trained_on=trained_on)
