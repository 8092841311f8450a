"""Concurrent single-message calls share one batch of the wrapped classifier."""

from __future__ import annotations

import asyncio

from core.classification.llm.coalesce import CoalescingClassifier
from core.classification.types import LLMUnavailable, MessageInput
from tests.support.classifiers import ScriptedClassifier


async def test_concurrent_calls_share_one_inner_call_and_get_their_own_results() -> None:
    inner = ScriptedClassifier()
    coalescing = CoalescingClassifier(inner, max_batch=20, window=0.05)
    texts = ["checkout fails", "how do I log in?", "ok", "please add Olena"]
    results = await asyncio.gather(
        *(coalescing.classify([MessageInput(str(i), t)]) for i, t in enumerate(texts))
    )
    assert len(inner.calls) == 1 and sorted(inner.calls[0]) == ["0", "1", "2", "3"]
    assert [r[0].result.kind.value for r in results if r[0].result] == ["bug", "question", "noise", "task"]


async def test_a_full_batch_goes_out_at_once_and_errors_reach_every_caller() -> None:
    inner = ScriptedClassifier(unavailable=True)
    coalescing = CoalescingClassifier(inner, max_batch=2, window=10)
    calls = [coalescing.classify([MessageInput(str(i), "x")]) for i in range(2)]
    outcomes = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 5)
    assert all(isinstance(o, LLMUnavailable) for o in outcomes)
    assert len(inner.calls) == 1


async def test_empty_call_costs_nothing() -> None:
    inner = ScriptedClassifier()
    assert await CoalescingClassifier(inner, max_batch=5).classify([]) == []
    assert inner.calls == []
