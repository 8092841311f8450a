"""Evaluating classifier configurations (`tracker eval` one, the notebooks several).

A RunSpec names a configuration; `run_spec` builds its classifier with the factory (so LLM
answers go through the shared result cache, the `llm_cache` table when it is given the
database's engine) and scores it with core.evaluation.runner.evaluate_limited.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic_ai.models import Model
from sqlalchemy import Engine

from core.classification.dataset import Example
from core.classification.factory import build_classifier
from core.classification.llm.cache import LLMCache
from core.classification.local.classifier import LocalClassifier
from core.classification.prompts import PromptVersion
from core.classification.types import Classifier, LLMUnavailable
from core.config import ClassifierMode, Settings
from core.evaluation.runner import EvalResult, ProgressFn, evaluate_limited

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
    engine: Engine | None = None,
) -> Classifier:
    """The classifier a spec describes (`local` replaces the active local model unless the spec names one)."""
    if spec.llm_model:
        settings = settings.model_copy(update={"llm_model": spec.llm_model})
    chosen = LocalClassifier.load(spec.local_model) if spec.local_model else local
    return build_classifier(
        settings, spec.mode, engine=engine, model=model, cache=cache, prompt=spec.prompt, local=chosen
    )


async def run_spec(
    spec: RunSpec,
    examples: Sequence[Example],
    settings: Settings,
    *,
    batch_size: int | None = None,
    concurrency: int = 4,
    progress: ProgressFn | None = None,
    local: Classifier | None = None,
    model: Model | None = None,
    engine: Engine | None = None,
) -> EvalResult:
    """One spec scored on the examples (in batches of the spec's size unless given);
    LLMUnavailable when its LLM does not answer."""
    classifier = build(spec, settings, local=local, model=model, engine=engine)
    try:
        return await evaluate_limited(
            classifier, examples, batch_size=batch_size or spec.batch_size(settings),
            concurrency=concurrency, progress=progress,
        )  # fmt: skip
    except* LLMUnavailable as group:
        raise group.exceptions[0] from None


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
    engine: Engine | None = None,
) -> Runs:
    """Every spec on the same examples, one after another; an unreachable LLM fails only its spec."""
    runs = Runs()
    for spec in specs:
        try:
            runs.results[spec.label] = await run_spec(
                spec, examples, settings, concurrency=concurrency, progress=progress,
                local=local, model=model, engine=engine,
            )  # fmt: skip
        except LLMUnavailable as e:
            runs.failures[spec.label] = str(e)
    return runs
