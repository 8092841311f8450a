"""Evaluating several configurations: the plan, the concurrency limit, merged results, LLM failures."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from core.classification.dataset import Example
from core.classification.prompts import PromptVersion
from core.classification.types import Classification, MessageInput, Outcome
from core.config import Settings
from core.evaluation.runner import evaluate, evaluate_limited, merge_results
from core.evaluation.runs import RunSpec, evaluate_specs, plan_runs
from core.models import Kind, Priority
from core.runtime.embedded import free_port
from tests.support.classifiers import ScriptedClassifier, keyword_kind
from tests.support.fake_llm import ScriptedLLM, gold, llm_settings

V2 = PromptVersion("v2", "Label chat messages.")
V3 = PromptVersion("v3", "Label chat messages carefully.")
EXAMPLES = [
    Example(text, kind, Priority.high if kind != Kind.noise else None, id=str(i))
    for i, (text, kind) in enumerate(
        [("checkout fails", Kind.bug), ("please add Olena", Kind.task), ("how do I pay?", Kind.question),
         ("wish: dark mode", Kind.feature), ("thanks", Kind.noise), ("export fails", Kind.task)] * 5
    )
]  # fmt: skip


@dataclass
class SlowClassifier:
    """Keyword labels after a short wait; records how many calls were in flight at once."""

    name: str = "slow"
    in_flight: int = 0
    most: int = 0
    calls: list[int] = field(default_factory=list)

    async def classify(self, messages: list[MessageInput]) -> list[Outcome]:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        self.calls.append(len(messages))
        await asyncio.sleep(0.01)
        self.in_flight -= 1
        return [self._one(m) for m in messages]

    def _one(self, message: MessageInput) -> Outcome:
        kind = keyword_kind(message.text)
        result = Classification(kind=kind, priority=None if kind == Kind.noise else Priority.high,
                                title=message.text, confidence=0.95 if kind != Kind.task else 0.5)  # fmt: skip
        return Outcome(
            result=result, classifier=self.name, model="slow-1", llm_calls=1, input_tokens=7, output_tokens=3
        )


def test_the_plan_crosses_prompts_and_models_for_llm_modes_only() -> None:
    specs = plan_runs(["local", "cascade", "llm"], [V2, V3], ["qwen", None], [None, "/m/20260101-ab.pkl"])
    labels = [s.label for s in specs]
    assert labels[:2] == ["local", "local · 20260101-ab"]
    assert "cascade · v2 · qwen" in labels and "llm · v3" in labels and len(labels) == 2 + 2 * 4
    assert plan_runs(["llm"], [], [], []) == [RunSpec("llm")]
    assert RunSpec("llm").label == "llm · active prompt"
    assert plan_runs(["local", "local"]) == [RunSpec("local")]


async def test_batches_run_concurrently_up_to_the_limit_and_merge_in_order() -> None:
    slow = SlowClassifier()
    seen: list[int] = []
    result = await evaluate_limited(slow, EXAMPLES, batch_size=4, concurrency=3, progress=seen.append)
    assert slow.most == 3 and sorted(slow.calls) == sorted([4] * 7 + [2])
    assert sum(seen) == len(EXAMPLES)
    assert [p.id for p in result.predictions] == [e.id for e in EXAMPLES]
    whole = await evaluate(SlowClassifier(), EXAMPLES)
    for key in ("n", "accuracy", "macro_f1", "per_class", "confusion", "accuracy_at_conf_0_9"):
        assert result.metrics[key] == whole.metrics[key]
    assert result.metrics["llm_calls"] == len(EXAMPLES) and result.metrics["tokens"] == 10 * len(EXAMPLES)
    assert result.model == "slow-1"


async def test_one_at_a_time_when_the_limit_is_one() -> None:
    slow = SlowClassifier()
    await evaluate_limited(slow, EXAMPLES, batch_size=5, concurrency=1)
    assert slow.most == 1 and len(slow.calls) == 6


async def test_nothing_to_evaluate_or_merge_is_an_error() -> None:
    with pytest.raises(ValueError, match="no examples"):
        await evaluate_limited(SlowClassifier(), [])
    with pytest.raises(ValueError, match="no results"):
        merge_results([], 0.0)


async def test_an_unreachable_llm_fails_its_own_runs_only(model_requests: None) -> None:
    closed = f"http://127.0.0.1:{free_port()}/v1"
    settings = llm_settings(llm_provider="openai", llm_base_url=closed, cascade_threshold=0.95)
    specs = [RunSpec("local"), RunSpec("llm", prompt=V2), RunSpec("cascade", prompt=V2)]
    runs = await evaluate_specs(specs, EXAMPLES, settings, local=ScriptedClassifier(name="local"))
    assert set(runs.results) == {"local", "cascade · v2"}
    assert list(runs.failures) == ["llm · v2"] and "unavailable" in runs.failures["llm · v2"]
    cascade = runs.results["cascade · v2"].metrics  # unsure local results kept, flagged for review
    assert cascade["needs_review"] == 25 and cascade["n"] == 30


async def test_llm_runs_use_the_given_prompt_version_and_count_the_cost() -> None:
    llm = ScriptedLLM(lambda text: gold(keyword_kind(text).value))
    settings: Settings = llm_settings(llm_batch_size=4)
    runs = await evaluate_specs(
        [RunSpec("llm", prompt=V3)], EXAMPLES, settings, model=llm.model(), concurrency=2
    )
    result = runs.results["llm · v3"]
    assert result.prompt_version == "v3" and not runs.failures
    assert result.metrics["llm_calls"] == len(llm.calls) > 0
    assert result.metrics["tokens"] == 120 * len(llm.calls)
    assert max(llm.batch_sizes) <= 4
    assert {text for call in llm.calls for text in call} == {e.text for e in EXAMPLES}
