"""The pydantic-ai agent behind the LLM classifier: one run per batch prompt, its valid
results by message id, what it cost, and which failures mean the server is away."""

from __future__ import annotations

import time
from dataclasses import dataclass

from pydantic_ai import Agent, ModelRetry, RunContext
from pydantic_ai.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelHTTPError,
    ModelNotFoundError,
    ModelQuotaExceededError,
    ModelRateLimitError,
    ModelRequestTimeout,
    ModelServerError,
    ModelUnavailableError,
    UnexpectedModelBehavior,
)
from pydantic_ai.models import Model
from pydantic_ai.settings import ModelSettings
from pydantic_ai.usage import RunUsage

from core.classification.llm.model import (
    OutputMode,
    base_settings,
    mode_settings,
    output_spec,
    prompt_settings,
)
from core.classification.llm.render import render_batch
from core.classification.llm.schema import BatchResult
from core.classification.llm.spend import Spend
from core.classification.prompts import PromptVersion
from core.classification.types import Classification, LLMUnavailable, MessageInput
from core.config import Settings

UNAVAILABLE_ERRORS = (
    ModelConnectionError,  # refused, reset, and per-attempt timeouts (ModelTimeoutError)
    ModelRequestTimeout,
    ModelServerError,
    ModelUnavailableError,
    ModelRateLimitError,
    ModelQuotaExceededError,
    ModelAuthenticationError,
    ModelNotFoundError,  # e.g. the model is not pulled into Ollama yet
)
"""Errors of the server or its configuration, not of a message: the message must wait."""

TOKENS_PER_ITEM = 96
"""Output budget per message (id, kind, priority, an 80-character title, confidence)."""


@dataclass(frozen=True)
class CallDeps:
    """The message ids one model call must answer."""

    ids: list[str]


@dataclass(frozen=True)
class CallResult:
    """The valid results of one call by id, what it cost, and why anything is missing."""

    results: dict[str, Classification]
    spend: Spend
    error: str | None = None


class BatchAgent:
    """Runs the classification agent on the configured model, one batch per call."""

    def __init__(self, settings: Settings, model: Model, mode: OutputMode) -> None:
        self.model = model
        self._settings: ModelSettings = {**base_settings(settings), **mode_settings(mode, settings)}
        self._agent = Agent(
            output_type=output_spec(mode),
            deps_type=CallDeps,
            retries=settings.llm_retries,
            name="tracker-classifier",
        )
        self._agent.output_validator(_require_result)

    async def call(self, messages: list[MessageInput], prompt: PromptVersion) -> CallResult:
        """One agent run (with its own output retries) over a batch."""
        ids = [str(i) for i in range(1, len(messages) + 1)]
        usage = RunUsage()
        started = time.perf_counter()
        try:
            run = await self._agent.run(
                render_batch(messages),
                model=self.model,
                instructions=prompt.text,
                deps=CallDeps(ids),
                model_settings=self._request_settings(prompt, len(messages)),
                usage=usage,
            )
            results, error = _results(run.output, ids), None
            if len(results) < len(ids):
                error = "; ".join(run.output.rejected) or "missing from the answer"
        except UnexpectedModelBehavior as exc:
            results, error = {}, error_text(exc)
        except ModelAPIError as exc:
            if unavailable_error(exc):
                raise LLMUnavailable(f"LLM {self.model.model_name} unavailable: {exc}") from exc
            results, error = {}, error_text(exc)
        except (OSError, TimeoutError) as exc:
            raise LLMUnavailable(f"LLM {self.model.model_name} unavailable: {exc!r}") from exc
        elapsed = (time.perf_counter() - started) * 1000
        spend = Spend(usage.input_tokens, usage.output_tokens, usage.requests, elapsed)
        return CallResult(results, spend, error)

    def _request_settings(self, prompt: PromptVersion, n: int) -> ModelSettings:
        tokens: ModelSettings = {"max_tokens": 64 + TOKENS_PER_ITEM * n}
        return {**self._settings, **prompt_settings(prompt.settings), **tokens}


async def _require_result(ctx: RunContext[CallDeps], output: BatchResult) -> BatchResult:
    """A single-message call must return a valid item; a batch may miss some (retried alone)."""
    if len(ctx.deps.ids) == 1 and not output.items:
        problems = "; ".join(output.rejected) or "no items"
        raise ModelRetry(f"Return one valid result for message id {ctx.deps.ids[0]} ({problems}).")
    return output


def _results(output: BatchResult, ids: list[str]) -> dict[str, Classification]:
    """Valid items by id; a lone message takes the lone item whatever id it carries."""
    by_id = output.by_id()
    if len(ids) == 1 and output.items:
        return {ids[0]: output.items[0].classification()}
    return {i: by_id[i].classification() for i in ids if i in by_id}


def unavailable_error(exc: ModelAPIError) -> bool:
    if isinstance(exc, UNAVAILABLE_ERRORS):
        return True
    return isinstance(exc, ModelHTTPError) and exc.status_code >= 500


def error_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    if exc.__cause__ is not None:
        text += f" ({exc.__cause__})"
    return text[:2000]
