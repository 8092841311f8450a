"""One place that builds the configured classifier: local, llm or cascade."""

from __future__ import annotations

from pydantic_ai.models import Model
from sqlalchemy import Engine

from core.classification.cascade import CascadeClassifier
from core.classification.llm.cache import DatabaseCache, LLMCache, MemoryCache
from core.classification.llm.classifier import LLMClassifier
from core.classification.local.active import ActiveLocalClassifier
from core.classification.prompts import DEFAULT_PROMPT, ActivePrompt, PromptSource
from core.classification.types import Classifier
from core.config import ClassifierMode, Settings


def build_classifier(
    settings: Settings,
    mode: ClassifierMode | None = None,
    *,
    engine: Engine | None = None,
    model: Model | None = None,
    cache: LLMCache | None = None,
    prompt: PromptSource | None = None,
    local: Classifier | None = None,
) -> Classifier:
    """The classifier for `mode` (default: settings.classifier).

    `model` replaces the configured LLM (tests pass a FunctionModel or TestModel). Without
    `cache` / `prompt`, a database `engine` gives the `llm_cache` table and the active
    prompt version (re-read every few seconds); without one, an in-memory cache and the
    built-in prompt. `local` replaces the data dir's trained local model.
    """
    mode = mode or settings.classifier
    if mode == "local":
        return local or load_local(settings)
    llm = LLMClassifier(
        settings, model=model, cache=cache or default_cache(engine), prompt=prompt or default_prompt(engine)
    )
    if mode == "llm":
        return llm
    return CascadeClassifier(local or load_local(settings), llm, threshold=settings.cascade_threshold)


def load_local(settings: Settings) -> ActiveLocalClassifier:
    """The data dir's active local model (trained from the seed examples when missing),
    followed as other processes activate newer ones."""
    return ActiveLocalClassifier(settings.runtime_dir)


def default_cache(engine: Engine | None) -> LLMCache:
    """The shared database cache when there is a database, else a process-local one."""
    return DatabaseCache(engine) if engine is not None else MemoryCache()


def default_prompt(engine: Engine | None) -> PromptSource:
    """The database's active prompt version when there is a database, else the built-in."""
    return ActivePrompt(engine) if engine is not None else DEFAULT_PROMPT
