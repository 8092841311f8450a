"""The LLM classifier: batched pydantic-ai calls over fenced messages, cached, with usage.

Up to `llm_batch_size` messages go in one call, each inside <message id="N"> tags with its
reply-to context; the model returns one result per id. A message missing from the answer, or
whose item is invalid, is asked about alone. Output that stays invalid after the agent's
retries becomes a failed outcome with its error; an unreachable server raises LLMUnavailable.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

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

from core.classification.llm.cache import CachedResult, LLMCache, cache_key
from core.classification.llm.model import (
    base_settings,
    build_model,
    mode_settings,
    output_mode,
    output_spec,
    prompt_settings,
)
from core.classification.llm.schema import BatchResult
from core.classification.prompts import DEFAULT_PROMPT, PromptSource, PromptVersion
from core.classification.types import Classification, LLMUnavailable, MessageInput, Outcome
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
class Spend:
    """What obtaining a result cost: tokens, model requests and waiting time."""

    input_tokens: int = 0
    output_tokens: int = 0
    calls: int = 0
    latency_ms: float = 0.0

    def __add__(self, other: Spend) -> Spend:
        return Spend(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.calls + other.calls,
            self.latency_ms + other.latency_ms,
        )

    def split(self, n: int) -> list[Spend]:
        """Shares for the n messages of a batch: counts sum exactly, each waited the whole time."""
        ins, outs, calls = (_shares(v, n) for v in (self.input_tokens, self.output_tokens, self.calls))
        return [Spend(ins[i], outs[i], calls[i], self.latency_ms) for i in range(n)]


def _shares(total: int, n: int) -> list[int]:
    base, rest = divmod(total, n)
    return [base + (1 if i < rest else 0) for i in range(n)]


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


def fence(text: str) -> str:
    """Escape text so it cannot close or forge the tags that fence it."""
    return html.escape(text, quote=False)


def render_message(message_id: str, message: MessageInput) -> str:
    """One message as data inside its tags, with the text it replies to."""
    lines = [f'<message id="{message_id}">']
    if message.reply_to:
        lines.append(f"<reply_to>{fence(message.reply_to)}</reply_to>")
    lines += [f"<text>{fence(message.text)}</text>", "</message>"]
    return "\n".join(lines)


def render_batch(messages: Sequence[MessageInput]) -> str:
    """The user prompt for a batch: ids 1..n, in order."""
    head = f"Classify each of these {len(messages)} messages; return one result per id."
    body = (render_message(str(i), m) for i, m in enumerate(messages, 1))
    return "\n\n".join([head, *body])


_FENCED = re.compile(
    r'<message id="(?P<id>[^"]+)">\n(?:<reply_to>(?P<reply_to>.*?)</reply_to>\n)?'
    r"<text>(?P<text>.*?)</text>\n</message>",
    re.S,
)


def read_batch(prompt: str) -> list[MessageInput]:
    """The messages fenced in a batch prompt (the inverse of render_batch, for stand-in LLMs)."""
    return [
        MessageInput(m["id"], html.unescape(m["text"]), _unescape(m["reply_to"]))
        for m in _FENCED.finditer(prompt)
    ]


def _unescape(text: str | None) -> str | None:
    return None if text is None else html.unescape(text)


async def _require_result(ctx: RunContext[CallDeps], output: BatchResult) -> BatchResult:
    """A single-message call must return a valid item; a batch may miss some (retried alone)."""
    if len(ctx.deps.ids) == 1 and not output.items:
        problems = "; ".join(output.rejected) or "no items"
        raise ModelRetry(f"Return one valid result for message id {ctx.deps.ids[0]} ({problems}).")
    return output


def _unavailable(exc: ModelAPIError) -> bool:
    if isinstance(exc, UNAVAILABLE_ERRORS):
        return True
    return isinstance(exc, ModelHTTPError) and exc.status_code >= 500


def _error_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    if exc.__cause__ is not None:
        text += f" ({exc.__cause__})"
    return text[:2000]


def _first_pays(keys: list[str], outcomes: dict[str, Outcome]) -> list[Outcome]:
    """Outcomes in input order; a text repeated in one call costs nothing the second time."""
    seen: set[str] = set()
    ordered = []
    for key in keys:
        outcome = outcomes[key]
        if key in seen:
            outcome = replace(
                outcome,
                input_tokens=0,
                output_tokens=0,
                llm_calls=0,
                latency_ms=0.0,
                extra={**outcome.extra, "cached": True},
            )
        seen.add(key)
        ordered.append(outcome)
    return ordered


class LLMClassifier:
    """Classifies messages with a pydantic-ai agent; see the module docstring."""

    name = "llm"

    def __init__(
        self,
        settings: Settings,
        *,
        model: Model | None = None,
        cache: LLMCache | None = None,
        prompt: PromptSource | None = None,
    ) -> None:
        self.mode = output_mode(settings)
        self.model = model or build_model(settings)
        self.cache = cache
        self.prompts: PromptSource = prompt or DEFAULT_PROMPT
        self.batch_size = max(1, settings.llm_batch_size)
        self._settings: ModelSettings = {**base_settings(settings), **mode_settings(self.mode, settings)}
        self._agent = Agent(
            output_type=output_spec(self.mode),
            deps_type=CallDeps,
            retries=settings.llm_retries,
            name="tracker-classifier",
        )
        self._agent.output_validator(_require_result)

    @property
    def model_name(self) -> str:
        return self.model.model_name

    async def classify(self, messages: list[MessageInput]) -> list[Outcome]:
        """One outcome per message, in order; raises LLMUnavailable when the server is away."""
        prompt = self.prompts.current()
        keys = [cache_key(m.text, m.reply_to, prompt.version, self.model_name) for m in messages]
        found = await self.cache.get_many(keys) if self.cache else {}
        outcomes = {k: self._cached(found[k], prompt) for k in keys if k in found}
        todo: dict[str, MessageInput] = {}
        for key, message in zip(keys, messages, strict=True):
            if key not in outcomes:
                todo.setdefault(key, message)
        chunks = list(todo)
        for start in range(0, len(chunks), self.batch_size):
            batch = {k: todo[k] for k in chunks[start : start + self.batch_size]}
            outcomes.update(await self._classify_batch(batch, prompt))
        return _first_pays(keys, outcomes)

    async def _classify_batch(
        self, batch: dict[str, MessageInput], prompt: PromptVersion
    ) -> dict[str, Outcome]:
        """Outcomes by cache key: one call for the batch, then one per message it missed.

        Answered items are cached before any other is asked again, so an outage in between
        loses nothing.
        """
        keys = list(batch)
        call = await self._call(list(batch.values()), prompt)
        shares = call.spend.split(len(keys))
        done: dict[str, Outcome] = {}
        for i, key in enumerate(keys):
            result = call.results.get(str(i + 1))
            if result is not None or len(keys) == 1:
                done[key] = self._outcome(result, prompt, shares[i], error=call.error, batch=len(keys))
        await self._remember(done)
        for i, key in enumerate(keys):
            if key not in done:
                alone = await self._call([batch[key]], prompt)
                spend = shares[i] + alone.spend
                result = alone.results.get("1")
                done[key] = self._outcome(result, prompt, spend, error=alone.error, retried_alone=True)
                await self._remember({key: done[key]})
        return done

    async def _call(self, messages: list[MessageInput], prompt: PromptVersion) -> CallResult:
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
            results, error = self._results(run.output, ids), None
            if len(results) < len(ids):
                error = "; ".join(run.output.rejected) or "missing from the answer"
        except UnexpectedModelBehavior as exc:
            results, error = {}, _error_text(exc)
        except ModelAPIError as exc:
            if _unavailable(exc):
                raise LLMUnavailable(f"LLM {self.model_name} unavailable: {exc}") from exc
            results, error = {}, _error_text(exc)
        except (OSError, TimeoutError) as exc:
            raise LLMUnavailable(f"LLM {self.model_name} unavailable: {exc!r}") from exc
        elapsed = (time.perf_counter() - started) * 1000
        spend = Spend(usage.input_tokens, usage.output_tokens, usage.requests, elapsed)
        return CallResult(results, spend, error)

    @staticmethod
    def _results(output: BatchResult, ids: list[str]) -> dict[str, Classification]:
        """Valid items by id; a lone message takes the lone item whatever id it carries."""
        by_id = output.by_id()
        if len(ids) == 1 and output.items:
            return {ids[0]: output.items[0].classification()}
        return {i: by_id[i].classification() for i in ids if i in by_id}

    def _request_settings(self, prompt: PromptVersion, n: int) -> ModelSettings:
        tokens: ModelSettings = {"max_tokens": 64 + TOKENS_PER_ITEM * n}
        return {**self._settings, **prompt_settings(prompt.settings), **tokens}

    def _outcome(
        self,
        result: Classification | None,
        prompt: PromptVersion,
        spend: Spend,
        *,
        error: str | None = None,
        **extra: object,
    ) -> Outcome:
        return Outcome(
            result=result,
            classifier=self.name,
            model=self.model_name,
            prompt_version=prompt.version,
            input_tokens=spend.input_tokens,
            output_tokens=spend.output_tokens,
            llm_calls=spend.calls,
            latency_ms=spend.latency_ms,
            error=None if result else (error or "no valid result"),
            extra={"output_mode": self.mode, **extra},
        )

    def _cached(self, stored: CachedResult, prompt: PromptVersion) -> Outcome:
        return self._outcome(Classification.model_validate(stored), prompt, Spend(), cached=True)

    async def _remember(self, outcomes: dict[str, Outcome]) -> None:
        """Cache the successful results (failures are asked again next time)."""
        if self.cache is None:
            return
        good = {k: o.result.model_dump(mode="json") for k, o in outcomes.items() if o.result}
        await self.cache.put_many(good)
