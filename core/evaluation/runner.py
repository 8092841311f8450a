"""Scoring any Classifier on labeled examples: batched runs, at most N batches in flight.

The fast path (`evaluate`) classifies in batches and computes the metrics itself, so
10,000 messages take seconds with the local classifier. `evaluate_limited` runs it on
batches under a concurrency limit (LLM calls) and merges the parts into one result.
`pydantic_evals_report` turns the same predictions into a pydantic-evals report (per-case
table, confusion matrix, precision/recall) when the per-case view is wanted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from core.classification.dataset import Example
from core.classification.types import Classifier, MessageInput, Outcome
from core.evaluation.metrics import Prediction, compute_metrics

ProgressFn = Callable[[int], None]
USAGE_KEYS = ("llm_calls", "tokens", "input_tokens", "output_tokens")


@dataclass
class EvalResult:
    """Metrics plus the per-example predictions of one evaluation run."""

    metrics: dict[str, Any]
    predictions: list[Prediction]
    classifier: str
    classifier_version: str | None = None
    model: str | None = None
    prompt_version: str | None = None

    def report(self, dataset: str) -> dict[str, Any]:
        """The flat report `tracker eval` prints: what ran on which data, then the metrics."""
        return {"dataset": dataset, "classifier": self.classifier,
                "classifier_version": self.classifier_version, "model": self.model,
                "prompt_version": self.prompt_version, **self.metrics}  # fmt: skip

    @property
    def llm_answered_nothing(self) -> bool:
        """Messages wait for review and no LLM call succeeded (the cascade kept local results)."""
        return bool(self.metrics.get("needs_review")) and not self.metrics.get("llm_calls")


def _prediction(example: Example, outcome: Outcome) -> Prediction:
    r = outcome.result
    return Prediction(
        id=example.id or "", gold_kind=example.kind.value,
        gold_priority=example.priority.value if example.priority else None,
        kind=r.kind.value if r else None, priority=r.priority.value if r and r.priority else None,
        confidence=r.confidence if r else None, title=r.title if r else None,
        needs_review=outcome.needs_review, error=outcome.error,
    )  # fmt: skip


def _usage(outcomes: Sequence[Outcome]) -> dict[str, int]:
    return {
        "llm_calls": sum(o.llm_calls for o in outcomes),
        "tokens": sum(o.input_tokens + o.output_tokens for o in outcomes),
        "input_tokens": sum(o.input_tokens for o in outcomes),
        "output_tokens": sum(o.output_tokens for o in outcomes),
    }


def _first(items: Sequence[Any], attr: str) -> str | None:
    return next((str(getattr(i, attr)) for i in items if getattr(i, attr)), None)


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


def merge_results(parts: Sequence[EvalResult], seconds: float) -> EvalResult:
    """One result from the results of consecutive batches."""
    if not parts:
        raise ValueError("no results to merge")
    preds = [p for part in parts for p in part.predictions]
    usage = {k: sum(int(part.metrics.get(k) or 0) for part in parts) for k in USAGE_KEYS}
    return EvalResult(
        metrics=compute_metrics(preds, seconds) | usage, predictions=preds, classifier=parts[0].classifier,
        classifier_version=_first(parts, "classifier_version"), model=_first(parts, "model"),
        prompt_version=_first(parts, "prompt_version"),
    )  # fmt: skip


async def evaluate_limited(
    classifier: Classifier,
    examples: Sequence[Example],
    *,
    batch_size: int = 20,
    concurrency: int = 4,
    progress: ProgressFn | None = None,
) -> EvalResult:
    """evaluate() on batches of `batch_size`, at most `concurrency` of them in flight at once."""
    if not examples:
        raise ValueError("no examples to evaluate")
    limit = asyncio.Semaphore(max(1, concurrency))
    size = max(1, batch_size)

    async def one(batch: Sequence[Example]) -> EvalResult:
        async with limit:
            return await evaluate(classifier, batch, batch_size=len(batch), progress=progress)

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(one(examples[i : i + size])) for i in range(0, len(examples), size)]
    return merge_results([t.result() for t in tasks], time.perf_counter() - started)


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
