"""Scores of predictions against gold labels: per-class precision/recall/F1, macro-F1,
confusion, calibration at high confidence, and NLBSE's macro-F1 over the gold classes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.models import Kind

KIND_LABELS = [k.value for k in Kind]
HIGH_CONFIDENCE = 0.9


@dataclass
class Prediction:
    """One example's gold labels next to what the classifier said."""

    id: str
    gold_kind: str
    gold_priority: str | None
    kind: str | None
    priority: str | None
    confidence: float | None
    title: str | None
    needs_review: bool = False
    error: str | None = None

    @property
    def correct(self) -> bool:
        return self.kind == self.gold_kind


def class_scores(
    gold: Sequence[str | None], pred: Sequence[str | None], label: str
) -> tuple[float, float, float]:
    """Precision, recall and F1 of one class (0.0 where a ratio has nothing to divide by)."""
    tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == p == label)
    predicted = sum(1 for p in pred if p == label)
    support = sum(1 for g in gold if g == label)
    precision = tp / predicted if predicted else 0.0
    recall = tp / support if support else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def macro_f1(gold: list[str], pred: list[str]) -> float:
    """Macro-F1 over the gold classes, unrounded (NLBSE's score)."""
    classes = sorted(set(gold))
    return sum(class_scores(gold, pred, c)[2] for c in classes) / len(classes)


def _per_class(preds: Sequence[Prediction]) -> dict[str, dict[str, float | int]]:
    gold, pred = [p.gold_kind for p in preds], [p.kind for p in preds]
    out: dict[str, dict[str, float | int]] = {}
    for label in KIND_LABELS:
        precision, recall, f1 = class_scores(gold, pred, label)
        out[label] = {"precision": round(precision, 4), "recall": round(recall, 4),
                      "f1": round(f1, 4), "support": gold.count(label)}  # fmt: skip
    return out


def _confusion(preds: Sequence[Prediction]) -> dict[str, dict[str, int]]:
    """gold kind -> predicted kind -> count ("error" where no result came back)."""
    columns = [*KIND_LABELS, "error"]
    matrix = {g: dict.fromkeys(columns, 0) for g in KIND_LABELS}
    for p in preds:
        matrix[p.gold_kind][p.kind or "error"] += 1
    return matrix


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def compute_metrics(preds: Sequence[Prediction], seconds: float = 0.0) -> dict[str, Any]:
    """Accuracy, macro-F1 over the kinds present, per-class figures, calibration at 0.9."""
    n = len(preds)
    per_class = _per_class(preds)
    present = [k for k in KIND_LABELS if per_class[k]["support"]]
    confident = [p for p in preds if p.confidence is not None and p.confidence >= HIGH_CONFIDENCE]
    with_prio = [p for p in preds if p.gold_priority is not None]
    return {
        "n": n,
        "accuracy": _ratio(sum(p.correct for p in preds), n),
        "macro_f1": round(sum(float(per_class[k]["f1"]) for k in present) / len(present), 4)
        if present
        else None,
        "per_class": per_class,
        "confusion": _confusion(preds),
        "priority_accuracy": _ratio(sum(p.priority == p.gold_priority for p in with_prio), len(with_prio)),
        "accuracy_at_conf_0_9": _ratio(sum(p.correct for p in confident), len(confident)),
        "coverage_at_conf_0_9": _ratio(len(confident), n),
        "errors": sum(1 for p in preds if p.kind is None),
        "needs_review": sum(1 for p in preds if p.needs_review),
        "seconds": round(seconds, 4),
        "messages_per_second": round(n / seconds, 1) if seconds > 0 else None,
    }
