"""The LLM classifier: batched pydantic-ai calls over fenced messages, cached, with usage.

Up to `llm_batch_size` messages go in one call, each inside <message id="N"> tags with its
reply-to context; the model returns one result per id. A larger batch's calls go side by side,
at most `llm_concurrency` at once. A message missing from the answer, or
whose item is invalid, is asked about alone. Output that stays invalid after the agent's
retries becomes a failed outcome with its error; an unreachable server raises LLMUnavailable.
"""

from __future__ import annotations

import asyncio

from pydantic_ai.models import Model

from core.classification.llm.agent import BatchAgent
from core.classification.llm.cache import CachedResult, LLMCache, cache_key
from core.classification.llm.model import build_model, output_mode
from core.classification.llm.spend import Spend
from core.classification.prompts import DEFAULT_PROMPT, PromptSource, PromptVersion
from core.classification.types import Classification, MessageInput, Outcome
from core.config import Settings


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
        self.concurrency = max(1, settings.llm_concurrency)
        self._agent = BatchAgent(settings, self.model, self.mode)

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
        for done in await self._classify_chunks(todo, prompt):
            outcomes.update(done)
        return _first_pays(keys, outcomes)

    async def _classify_chunks(
        self, todo: dict[str, MessageInput], prompt: PromptVersion
    ) -> list[dict[str, Outcome]]:
        """The messages in calls of at most batch_size, `concurrency` calls at once. Every call
        runs to its end (what it answered is cached) before an outage is raised."""
        keys = list(todo)
        gate = asyncio.Semaphore(self.concurrency)

        async def chunk(start: int) -> dict[str, Outcome]:
            async with gate:
                return await self._classify_batch(
                    {k: todo[k] for k in keys[start : start + self.batch_size]}, prompt
                )

        results = await asyncio.gather(
            *(chunk(start) for start in range(0, len(keys), self.batch_size)), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return [r for r in results if not isinstance(r, BaseException)]

    async def _classify_batch(
        self, batch: dict[str, MessageInput], prompt: PromptVersion
    ) -> dict[str, Outcome]:
        """Outcomes by cache key: one call for the batch, then one per message it missed.

        Answered items are cached before any other is asked again, so an outage in between
        loses nothing.
        """
        keys = list(batch)
        call = await self._agent.call(list(batch.values()), prompt)
        shares = call.spend.split(len(keys))
        done: dict[str, Outcome] = {}
        for i, key in enumerate(keys):
            result = call.results.get(str(i + 1))
            if result is not None or len(keys) == 1:
                done[key] = self._outcome(result, prompt, shares[i], error=call.error)
        await self._remember(done)
        for i, key in enumerate(keys):
            if key not in done:
                alone = await self._agent.call([batch[key]], prompt)
                spend = shares[i] + alone.spend
                result = alone.results.get("1")
                done[key] = self._outcome(result, prompt, spend, error=alone.error)
                await self._remember({key: done[key]})
        return done

    def _outcome(
        self,
        result: Classification | None,
        prompt: PromptVersion,
        spend: Spend,
        *,
        error: str | None = None,
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
        )

    def _cached(self, stored: CachedResult, prompt: PromptVersion) -> Outcome:
        return self._outcome(Classification.model_validate(stored), prompt, Spend())

    async def _remember(self, outcomes: dict[str, Outcome]) -> None:
        """Cache the successful results (failures are asked again next time)."""
        if self.cache is None:
            return
        good = {k: o.result.model_dump(mode="json") for k, o in outcomes.items() if o.result}
        await self.cache.put_many(good)


def _first_pays(keys: list[str], outcomes: dict[str, Outcome]) -> list[Outcome]:
    """Outcomes in input order; a text repeated in one call costs nothing the second time."""
    seen: set[str] = set()
    ordered = []
    for key in keys:
        outcome = outcomes[key]
        if key in seen:
            outcome = outcome.model_copy(
                update={"input_tokens": 0, "output_tokens": 0, "llm_calls": 0, "latency_ms": 0.0}
            )
        seen.add(key)
        ordered.append(outcome)
    return ordered
