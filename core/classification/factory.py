"""One place that builds the configured classifier: local, llm or cascade."""

from __future__ import annotations

from pydantic_ai.models import Model

from core.classification.cascade import CascadeClassifier
from core.classification.llm.cache import DatabaseCache, LLMCache, MemoryCache
from core.classification.llm.classifier import LLMClassifier
from core.classification.llm.coalesce import CoalescingClassifier
from core.classification.local.active import ActiveLocalClassifier
from core.classification.prompts import DEFAULT_PROMPT, ActivePrompt, PromptSource
from core.classification.types import Classifier
from core.config import ClassifierMode, Settings
from core.db import get_engine


def build_classifier(
    settings: Settings,
    mode: ClassifierMode | None = None,
    *,
    model: Model | None = None,
    cache: LLMCache | None = None,
    prompt: PromptSource | None = None,
    local: Classifier | None = None,
) -> Classifier:
    """The classifier for `mode` (default: settings.classifier).

    `model` replaces the configured LLM (tests pass a FunctionModel or TestModel). Without
    `cache` / `prompt`, a configured database gives the `llm_cache` table and the active
    prompt version (re-read every few seconds); without one, an in-memory cache and the
    built-in prompt. `local` replaces the data dir's trained local model.
    """
    mode = mode or settings.classifier
    if mode == "local":
        return local or load_local(settings)
    llm = CoalescingClassifier(
        LLMClassifier(
            settings,
            model=model,
            cache=cache or default_cache(settings),
            prompt=prompt or default_prompt(settings),
        ),
        max_batch=settings.llm_batch_size,
    )
    if mode == "llm":
        return llm
    return CascadeClassifier(local or load_local(settings), llm, threshold=settings.cascade_threshold)


def load_local(settings: Settings) -> ActiveLocalClassifier:
    """The data dir's active local model (trained from the seed examples when missing),
    followed as other processes activate newer ones."""
    return ActiveLocalClassifier(settings.runtime_dir)


def default_cache(settings: Settings) -> LLMCache:
    """The shared database cache when a database is configured, else a process-local one."""
    if settings.database_url:
        return DatabaseCache(get_engine(settings.database_url))
    return MemoryCache()


def default_prompt(settings: Settings) -> PromptSource:
    """The database's active prompt version when a database is configured, else the built-in."""
    if settings.database_url:
        return ActivePrompt(get_engine(settings.database_url))
    return DEFAULT_PROMPT
