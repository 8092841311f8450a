"""The cascade: noise rules, then the local model, then the LLM only for uncertain messages.

The local result stands when its confidence is at or above the threshold. When the LLM is
unreachable the local result is kept with needs_review=True (the pipeline asks the LLM again
later); when the LLM answers but its output stays invalid, the local result is kept with the
LLM's spend.
"""

from __future__ import annotations

from typing import Protocol

from core.classification.noise import noise_classification
from core.classification.types import (
    Classification,
    Classifier,
    LLMUnavailable,
    MessageInput,
    Outcome,
)


class NoiseFilter(Protocol):
    """A rule that recognises trivially non-actionable text."""

    def __call__(self, text: str, /) -> Classification | None: ...


class CascadeClassifier:
    """Routes each message to the cheapest stage that is sure enough; see the module docstring."""

    name = "cascade"

    def __init__(
        self,
        local: Classifier,
        llm: Classifier,
        *,
        threshold: float,
        noise: NoiseFilter = noise_classification,
    ) -> None:
        self.local = local
        self.llm = llm
        self.threshold = threshold
        self.noise = noise

    async def classify(self, messages: list[MessageInput]) -> list[Outcome]:
        """One outcome per message, in order; never raises LLMUnavailable."""
        noise = [self._noise(m) for m in messages]
        rest = [i for i, o in enumerate(noise) if o is None]
        local = await self.local.classify([messages[i] for i in rest]) if rest else []
        decided = dict(zip(rest, local, strict=True))
        unsure = [i for i in rest if not self._sure(decided[i])]
        if unsure:
            answers = await self._ask_llm([messages[i] for i in unsure], [decided[i] for i in unsure])
            decided.update(zip(unsure, answers, strict=True))
        return [o if o is not None else decided[i] for i, o in enumerate(noise)]

    def _noise(self, message: MessageInput) -> Outcome | None:
        result = self.noise(message.text)
        return None if result is None else Outcome(result=result, classifier="noise")

    def _sure(self, outcome: Outcome) -> bool:
        return bool(outcome.result and outcome.result.confidence >= self.threshold)

    async def _ask_llm(self, messages: list[MessageInput], local: list[Outcome]) -> list[Outcome]:
        """The LLM's outcomes, or the local ones flagged for review while it is away."""
        try:
            answers = await self.llm.classify(messages)
        except LLMUnavailable:
            return [o.model_copy(update={"needs_review": True}) for o in local]
        return [_merge(own, answer) for own, answer in zip(local, answers, strict=True)]


def _merge(local: Outcome, answer: Outcome) -> Outcome:
    """The LLM's result when it has one, else the local one; the LLM's spend is kept either way."""
    latency = local.latency_ms + answer.latency_ms
    if answer.result is not None:
        return answer.model_copy(update={"latency_ms": latency})
    spend = {"input_tokens": answer.input_tokens, "output_tokens": answer.output_tokens}
    error = local.error if local.result else answer.error
    return local.model_copy(
        update={**spend, "llm_calls": answer.llm_calls, "latency_ms": latency, "error": error}
    )
