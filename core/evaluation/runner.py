"""Scoring any Classifier on a labeled data set: batched runs, metrics, saved runs.

The fast path (`evaluate`) classifies in batches and computes the metrics itself, so
10,000 messages take seconds with the local classifier. `pydantic_evals_report` turns
the same predictions into a pydantic-evals report (per-case table, confusion matrix,
precision/recall) when the per-case view is wanted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from core.classification.dataset import DatasetError, Example, load_jsonl, parse_lines
from core.classification.types import Classifier, MessageInput, Outcome
from core.models import Kind

__all__ = [
    "DatasetError",
    "EvalResult",
    "Prediction",
    "compute_metrics",
    "evaluate",
    "load_dataset",
    "parse_lines",
    "save_eval_run",
]

KIND_LABELS = [k.value for k in Kind]
HIGH_CONFIDENCE = 0.9
ProgressFn = Callable[[int], None]


def load_dataset(path: str) -> list[Example]:
    """A JSON Lines data set (see core.classification.dataset for the format)."""
    return load_jsonl(path)


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


@dataclass
class EvalResult:
    """Metrics plus the per-example predictions of one evaluation run."""

    metrics: dict[str, Any]
    predictions: list[Prediction]
    classifier: str
    classifier_version: str | None = None
    model: str | None = None
    prompt_version: str | None = None


def _prediction(example: Example, outcome: Outcome) -> Prediction:
    r = outcome.result
    return Prediction(
        id=example.id or "", gold_kind=example.kind.value,
        gold_priority=example.priority.value if example.priority else None,
        kind=r.kind.value if r else None, priority=r.priority.value if r and r.priority else None,
        confidence=r.confidence if r else None, title=r.title if r else None,
        needs_review=outcome.needs_review, error=outcome.error,
    )  # fmt: skip


def _per_class(preds: Sequence[Prediction]) -> dict[str, dict[str, float | int]]:
    out: dict[str, dict[str, float | int]] = {}
    for label in KIND_LABELS:
        tp = sum(1 for p in preds if p.kind == label and p.gold_kind == label)
        predicted = sum(1 for p in preds if p.kind == label)
        support = sum(1 for p in preds if p.gold_kind == label)
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[label] = {"precision": round(precision, 4), "recall": round(recall, 4),
                      "f1": round(f1, 4), "support": support}  # fmt: skip
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


def _usage(outcomes: Sequence[Outcome]) -> dict[str, int]:
    return {
        "llm_calls": sum(o.llm_calls for o in outcomes),
        "tokens": sum(o.input_tokens + o.output_tokens for o in outcomes),
        "input_tokens": sum(o.input_tokens for o in outcomes),
        "output_tokens": sum(o.output_tokens for o in outcomes),
    }


def _first(outcomes: Sequence[Outcome], attr: str) -> str | None:
    return next((str(getattr(o, attr)) for o in outcomes if getattr(o, attr)), None)


async def evaluate(
    classifier: Classifier,
    examples: Sequence[Example],
    batch_size: int = 500,
    progress: ProgressFn | None = None,
) -> EvalResult:
    """Classify examples in batches with any Classifier and score the outcomes."""
    outcomes: list[Outcome] = []
    started = time.perf_counter()
    for start in range(0, len(examples), batch_size):
        batch = examples[start : start + batch_size]
        inputs = [MessageInput(id=e.id or str(start + i), text=e.text, reply_to=e.reply_to)
                  for i, e in enumerate(batch)]  # fmt: skip
        got = await classifier.classify(inputs)
        if len(got) != len(batch):
            raise RuntimeError(f"{classifier.name} returned {len(got)} outcomes for {len(batch)}")
        outcomes.extend(got)
        if progress:
            progress(len(batch))
    seconds = time.perf_counter() - started
    preds = [_prediction(e, o) for e, o in zip(examples, outcomes, strict=True)]
    metrics = compute_metrics(preds, seconds) | _usage(outcomes)
    return EvalResult(
        metrics=metrics, predictions=preds, classifier=classifier.name,
        classifier_version=_first(outcomes, "classifier_version"), model=_first(outcomes, "model"),
        prompt_version=_first(outcomes, "prompt_version"),
    )  # fmt: skip


def save_eval_run(session: Any, result: EvalResult, dataset: str) -> int | None:
    """Store the run as an EvalRun row (metrics and predictions); returns its id."""
    from core.models import EvalRun

    row = EvalRun(
        dataset=dataset[:512], classifier=result.classifier,
        classifier_version=result.classifier_version, prompt_version=result.prompt_version,
        model=result.model, metrics=result.metrics,
        predictions=[asdict(p) for p in result.predictions],
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row.id


async def pydantic_evals_report(examples: Sequence[Example], result: EvalResult, name: str = "eval") -> Any:
    """A pydantic-evals report of finished predictions (per case: kind/priority match)."""
    from pydantic_evals import Case, Dataset
    from pydantic_evals.evaluators import ConfusionMatrixEvaluator, EqualsExpected

    cases = [Case(name=p.id, inputs={"id": p.id, "text": e.text}, expected_output=e.kind.value,
                  metadata={"priority": p.gold_priority})
             for e, p in zip(examples, result.predictions, strict=True)]  # fmt: skip
    dataset = Dataset[dict[str, str], str, dict[str, Any]](
        name=name, cases=cases, evaluators=[EqualsExpected()],
        report_evaluators=[ConfusionMatrixEvaluator()],
    )  # fmt: skip
    predicted = {p.id: p.kind or "error" for p in result.predictions}

    async def task(inputs: dict[str, str]) -> str:
        return predicted[inputs["id"]]

    return await dataset.evaluate(task, name=name, progress=False)
