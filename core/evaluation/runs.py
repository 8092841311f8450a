"""Evaluating several classifier configurations: LLM calls under a concurrency limit, saved runs.

`evaluate_limited` runs core.evaluation.runner.evaluate on batches, at most `concurrency` at a time,
and merges them into one EvalResult; the classifiers come from the factory, so LLM answers go
through the shared result cache (the `llm_cache` table when a database is configured).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic_ai.models import Model
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from core.classification.dataset import Example
from core.classification.factory import build_classifier
from core.classification.llm.cache import LLMCache
from core.classification.local.classifier import LocalClassifier
from core.classification.prompts import PromptVersion
from core.classification.types import Classifier, LLMUnavailable
from core.config import ClassifierMode, Settings
from core.evaluation.runner import EvalResult, Prediction, ProgressFn, compute_metrics, evaluate
from core.models import EvalRun

USAGE_KEYS = ("llm_calls", "tokens", "input_tokens", "output_tokens")
LOCAL_BATCH = 500


@dataclass(frozen=True)
class RunSpec:
    """One configuration to evaluate: a mode, and for it a prompt version, LLM or local model file."""

    mode: ClassifierMode
    prompt: PromptVersion | None = None
    llm_model: str | None = None
    local_model: str | None = None

    @property
    def uses_llm(self) -> bool:
        return self.mode != "local"

    @property
    def label(self) -> str:
        """A short unique name: `local`, `local · 20260101-ab12cd34`, `cascade · v2 · qwen2.5:3b`."""
        if not self.uses_llm:
            return "local" + (f" · {Path(self.local_model).stem}" if self.local_model else "")
        parts = [self.mode, self.prompt.version if self.prompt else "active prompt", self.llm_model]
        return " · ".join(p for p in parts if p)

    def batch_size(self, settings: Settings) -> int:
        """Messages per classify() call: the LLM batch size when the LLM may be asked."""
        return settings.llm_batch_size if self.uses_llm else LOCAL_BATCH


def plan_runs(
    modes: Iterable[ClassifierMode],
    prompts: Sequence[PromptVersion | None] = (None,),
    llm_models: Sequence[str | None] = (None,),
    local_models: Sequence[str | None] = (None,),
) -> list[RunSpec]:
    """Every local model for `local`; every prompt x LLM model for `llm` and `cascade`."""
    specs: list[RunSpec] = []
    for mode in modes:
        if mode == "local":
            specs += [RunSpec("local", local_model=m) for m in local_models or (None,)]
        else:
            specs += [RunSpec(mode, prompt=p, llm_model=m) for p in prompts or (None,)
                      for m in llm_models or (None,)]  # fmt: skip
    unique: dict[str, RunSpec] = {}
    for spec in specs:
        unique.setdefault(spec.label, spec)
    return list(unique.values())


def build(
    spec: RunSpec,
    settings: Settings,
    *,
    local: Classifier | None = None,
    cache: LLMCache | None = None,
    model: Model | None = None,
) -> Classifier:
    """The classifier a spec describes (`local` replaces the active local model unless the spec names one)."""
    if spec.llm_model:
        settings = settings.model_copy(update={"llm_model": spec.llm_model})
    chosen = LocalClassifier.load(spec.local_model) if spec.local_model else local
    return build_classifier(settings, spec.mode, model=model, cache=cache, prompt=spec.prompt, local=chosen)


def merge_results(parts: Sequence[EvalResult], seconds: float) -> EvalResult:
    """One result from the results of consecutive batches."""
    if not parts:
        raise ValueError("no results to merge")
    preds = [p for part in parts for p in part.predictions]
    usage = {k: sum(int(part.metrics.get(k) or 0) for part in parts) for k in USAGE_KEYS}

    def first(attr: str) -> str | None:
        return next((getattr(p, attr) for p in parts if getattr(p, attr)), None)

    return EvalResult(
        metrics=compute_metrics(preds, seconds) | usage, predictions=preds, classifier=parts[0].classifier,
        classifier_version=first("classifier_version"), model=first("model"),
        prompt_version=first("prompt_version"),
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


@dataclass
class Runs:
    """Results by spec label, and why the specs that have none failed."""

    results: dict[str, EvalResult] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)


async def evaluate_specs(
    specs: Sequence[RunSpec],
    examples: Sequence[Example],
    settings: Settings,
    *,
    concurrency: int = 4,
    progress: ProgressFn | None = None,
    local: Classifier | None = None,
    model: Model | None = None,
) -> Runs:
    """Every spec on the same examples, one after another; an unreachable LLM fails only its spec."""
    runs = Runs()
    for spec in specs:
        classifier = build(spec, settings, local=local, model=model)
        try:
            runs.results[spec.label] = await evaluate_limited(
                classifier, examples, batch_size=spec.batch_size(settings), concurrency=concurrency,
                progress=progress,
            )  # fmt: skip
        except* LLMUnavailable as group:
            runs.failures[spec.label] = str(group.exceptions[0])
    return runs


def saved_runs(session: Session, dataset: str, limit: int = 50) -> dict[str, int]:
    """The stored runs on a data set, newest first, as `#id label (date)` -> id."""
    columns = [col(c) for c in (EvalRun.id, EvalRun.classifier, EvalRun.prompt_version, EvalRun.model)]
    query = (
        sa_select(*columns, col(EvalRun.created_at))
        .where(col(EvalRun.dataset) == dataset)
        .order_by(col(EvalRun.created_at).desc(), col(EvalRun.id).desc())
        .limit(limit)
    )
    rows = [row._asdict() for row in session.execute(query)]
    return {f"#{r['id']} {result_label(r)} ({r['created_at']:%Y-%m-%d %H:%M})": int(r["id"]) for r in rows}


def result_label(run: EvalResult | dict[str, Any]) -> str:
    """classifier · prompt version · model of a result or a stored run."""
    get = run.get if isinstance(run, dict) else lambda k: getattr(run, k)
    return " · ".join(str(v) for v in (get("classifier"), get("prompt_version"), get("model")) if v)


def load_eval_run(session: Session, run_id: int) -> EvalResult:
    """A stored run as an EvalResult (KeyError when there is none with that id)."""
    row = session.get(EvalRun, run_id)
    if row is None:
        raise KeyError(run_id)
    return EvalResult(
        metrics=dict(row.metrics), predictions=[Prediction(**p) for p in row.predictions],
        classifier=row.classifier, classifier_version=row.classifier_version, model=row.model,
        prompt_version=row.prompt_version,
    )  # fmt: skip
