"""Cascade routing (noise rules -> local model -> LLM) and the classifier factory."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic_ai.exceptions import ModelConnectionError
from pydantic_ai.messages import ModelMessage, ModelResponse
from pydantic_ai.models.function import AgentInfo, FunctionModel

from core.classification.cascade import CascadeClassifier
from core.classification.factory import build_classifier
from core.classification.llm.cache import MemoryCache
from core.classification.llm.classifier import LLMClassifier
from core.classification.prompts import DEFAULT_PROMPT
from core.classification.types import Classification, MessageInput, Outcome
from core.models import Kind, Priority
from tests.support.fake_llm import ScriptedLLM, gold, llm_settings

THRESHOLD = 0.85


@dataclass
class FixedLocal:
    """A local classifier that says `task` with a confidence chosen per text."""

    confidence: dict[str, float]
    seen: list[str] = field(default_factory=list)
    name: str = "local"

    async def classify(self, messages: list[MessageInput]) -> list[Outcome]:
        self.seen += [m.text for m in messages]
        return [self._one(m) for m in messages]

    def _one(self, message: MessageInput) -> Outcome:
        result = Classification(
            kind=Kind.task,
            priority=Priority.low,
            title="local title",
            confidence=self.confidence[message.text],
        )
        return Outcome(result=result, classifier=self.name, classifier_version="L1", latency_ms=0.01)


SURE, EDGE, UNSURE = "renew the certificate", "archive the old repo", "the export thing again"
LOCAL = {SURE: 0.97, EDGE: THRESHOLD, UNSURE: 0.40}


def messages(*texts: str) -> list[MessageInput]:
    return [MessageInput(str(i), t) for i, t in enumerate(texts)]


def cascade(local: FixedLocal, llm: ScriptedLLM | Any) -> CascadeClassifier:
    model = llm.model() if isinstance(llm, ScriptedLLM) else llm
    answer = LLMClassifier(llm_settings(), model=model, cache=MemoryCache())
    return CascadeClassifier(local, answer, threshold=THRESHOLD)


async def test_noise_never_reaches_the_local_model_or_the_llm() -> None:
    local, llm = FixedLocal(LOCAL), ScriptedLLM(lambda t: gold("bug"))
    outcomes = await cascade(local, llm).classify(messages("дякую!", "ok 👍", SURE))
    assert [o.classifier for o in outcomes] == ["noise", "noise", "local"]
    assert outcomes[0].result and outcomes[0].result.kind == Kind.noise
    assert local.seen == [SURE] and llm.calls == []


async def test_a_confident_local_result_stands_at_or_above_the_threshold() -> None:
    local, llm = FixedLocal(LOCAL), ScriptedLLM(lambda t: gold("bug"))
    outcomes = await cascade(local, llm).classify(messages(SURE, EDGE))
    assert [o.classifier for o in outcomes] == ["local", "local"]
    assert all(o.llm_calls == 0 and not o.needs_review for o in outcomes)
    assert llm.calls == []


async def test_the_llm_decides_when_the_local_model_is_unsure() -> None:
    local, llm = FixedLocal(LOCAL), ScriptedLLM(lambda t: gold("bug", 0.8))
    outcomes = await cascade(local, llm).classify(messages(SURE, UNSURE, "дякую!"))
    assert llm.calls == [[UNSURE]]
    sure, unsure, _ = outcomes
    assert sure.classifier == "local"
    assert unsure.classifier == "llm" and unsure.result and unsure.result.kind == Kind.bug
    assert unsure.llm_calls == 1 and unsure.input_tokens > 0
    assert unsure.prompt_version == DEFAULT_PROMPT.version and not unsure.needs_review


async def test_llm_away_keeps_the_local_result_flagged_for_review() -> None:
    def down(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        raise ModelConnectionError("m", "Connection error.", phase="connect")

    outcomes = await cascade(FixedLocal(LOCAL), FunctionModel(down)).classify(messages(SURE, UNSURE))
    sure, unsure = outcomes
    assert not sure.needs_review
    assert unsure.classifier == "local" and unsure.result and unsure.result.kind == Kind.task
    assert unsure.needs_review
    assert unsure.error is None


async def test_llm_output_that_stays_invalid_keeps_the_local_result_and_its_cost() -> None:
    llm = ScriptedLLM(lambda t: {"kind": "??"})
    [outcome] = await cascade(FixedLocal(LOCAL), llm).classify(messages(UNSURE))
    assert outcome.classifier == "local" and outcome.result and outcome.result.kind == Kind.task
    assert outcome.llm_calls == len(llm.calls) == 2  # first answer + llm_retries=1
    assert not outcome.needs_review


def test_factory_builds_each_mode_without_a_database() -> None:
    settings = llm_settings()
    model = ScriptedLLM(lambda t: gold("bug")).model()
    local = FixedLocal(LOCAL)
    llm = build_classifier(settings, "llm", model=model)
    assert isinstance(llm, LLMClassifier) and llm.batch_size == settings.llm_batch_size
    assert isinstance(llm.cache, MemoryCache) and llm.prompts is DEFAULT_PROMPT
    assert build_classifier(settings, "local", local=local) is local
    both = build_classifier(settings, model=model, local=local)  # settings.classifier: cascade
    assert isinstance(both, CascadeClassifier) and both.local is local
    assert both.threshold == settings.cascade_threshold
