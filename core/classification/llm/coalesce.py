"""Joins concurrent classify() calls into shared batches, so that single messages arriving
at the same time (one queue task each) still share one LLM call."""

from __future__ import annotations

import asyncio

from core.classification.types import Classifier, MessageInput, Outcome


class CoalescingClassifier:
    """Wraps a classifier; calls made within `window` seconds go out as one batch."""

    def __init__(self, inner: Classifier, *, max_batch: int, window: float = 0.05) -> None:
        self.inner = inner
        self.name = inner.name
        self.max_batch = max(1, max_batch)
        self.window = window
        self._waiting: list[tuple[list[MessageInput], asyncio.Future[list[Outcome]]]] = []
        self._timer: asyncio.TimerHandle | None = None

    def __getattr__(self, item: str) -> object:
        return getattr(self.inner, item)

    async def classify(self, messages: list[MessageInput]) -> list[Outcome]:
        if not messages:
            return []
        future: asyncio.Future[list[Outcome]] = asyncio.get_running_loop().create_future()
        self._waiting.append((messages, future))
        if sum(len(m) for m, _ in self._waiting) >= self.max_batch:
            self._flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.window, self._flush)
        return await future

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        waiting, self._waiting = self._waiting, []
        if waiting:
            asyncio.get_running_loop().create_task(self._run(waiting))

    async def _run(self, waiting: list[tuple[list[MessageInput], asyncio.Future[list[Outcome]]]]) -> None:
        joined = [m for messages, _ in waiting for m in messages]
        try:
            outcomes = await self.inner.classify(joined)
        except BaseException as exc:
            for _, future in waiting:
                if not future.done():
                    future.set_exception(exc)
            return
        start = 0
        for messages, future in waiting:
            if not future.done():
                future.set_result(outcomes[start : start + len(messages)])
            start += len(messages)
