"""Group commit: calls that arrive while a run is under way share the next run.

The worker receives one queue task per posted message. Run one by one, each task pays its own
transactions and its own turn at its chat's lock, and at a steady hundred messages a second the
worker falls behind. Joined, the tasks that come in while a batch is being stored go out
together in the next batch: one message alone when the chat is quiet, many when it is busy.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")
Entry = tuple[list[Item], asyncio.Future[None]]


class GroupCommit(Generic[Item]):
    """Runs `run` over the items of the calls waiting, one run at a time, at most `max_items` a
    run (a call's items are never split; an item in two calls runs once). A call returns when
    the run holding its items has succeeded and raises what that run raised; when a joined run
    fails, each of its calls runs alone, so that one bad item fails only its own call.

    One run at a time: runs side by side would only queue at their chat's lock, each with its
    own transaction (measured in evals/README.md, "Group commit in the worker")."""

    def __init__(self, run: Callable[[list[Item]], Awaitable[object]], *, max_items: int) -> None:
        self._run = run
        self.max_items = max(1, max_items)
        self._waiting: list[Entry[Item]] = []
        self._draining: asyncio.Task[None] | None = None

    async def __call__(self, items: list[Item]) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((items, future))
        if self._draining is None:
            self._draining = asyncio.create_task(self._drain())
        await future

    async def _drain(self) -> None:
        batch: list[Entry[Item]] = []
        try:
            while self._waiting:
                batch = self._next_batch()
                await self._settle(batch)
        finally:
            self._draining = None  # at once: the next call starts a run of its own
            for _, future in batch + self._waiting:  # cancelled with the worker: nobody waits for ever
                future.cancel()
            self._waiting = []

    def _next_batch(self) -> list[Entry[Item]]:
        taken, count = 1, len(self._waiting[0][0])
        for items, _ in self._waiting[1:]:
            if count + len(items) > self.max_items:
                break
            taken, count = taken + 1, count + len(items)
        batch, self._waiting = self._waiting[:taken], self._waiting[taken:]
        return batch

    async def _settle(self, batch: list[Entry[Item]]) -> None:
        joined = list(dict.fromkeys(item for items, _ in batch for item in items))
        try:
            await self._run(joined)
        except Exception as exc:
            if len(batch) > 1:
                for entry in batch:
                    await self._settle([entry])
                return
            _resolve(batch, exc)
            return
        _resolve(batch, None)


def _resolve(batch: list[Entry[Item]], error: Exception | None) -> None:
    for _, future in batch:
        if future.done():  # its caller was cancelled; its items were stored all the same
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
