"""The worker's group commit: classification tasks that arrive while a batch is being stored
share the next batch; one bad message fails only its own task."""

from __future__ import annotations

import asyncio

import pytest

from core.runtime.group_commit import GroupCommit


class Runs:
    """A run that records its items and holds the first one until `release` is set."""

    def __init__(self) -> None:
        self.seen: list[list[int]] = []
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, items: list[int]) -> None:
        self.seen.append(items)
        if len(self.seen) == 1:
            self.started.set()
            await self.release.wait()
        if 13 in items:
            raise ValueError("message 13 cannot be stored")


async def _first_run_held(runs: Runs, joined: GroupCommit[int]) -> asyncio.Task[None]:
    first = asyncio.create_task(joined([1]))
    await asyncio.wait_for(runs.started.wait(), 5)
    return first


async def test_calls_arriving_during_a_run_share_the_next_one() -> None:
    runs = Runs()
    joined = GroupCommit(runs, max_items=50)
    first = await _first_run_held(runs, joined)
    later = [asyncio.create_task(joined([i])) for i in (2, 3, 4)]
    await asyncio.sleep(0)  # they are waiting now, behind the held run
    runs.release.set()
    await asyncio.wait_for(asyncio.gather(first, *later), 5)
    assert runs.seen == [[1], [2, 3, 4]]


async def test_a_failing_item_fails_only_its_own_call() -> None:
    runs = Runs()
    joined = GroupCommit(runs, max_items=50)
    first = await _first_run_held(runs, joined)
    later = [asyncio.create_task(joined(items)) for items in ([2], [13], [4, 5])]
    await asyncio.sleep(0)
    runs.release.set()
    outcomes = await asyncio.wait_for(asyncio.gather(first, *later, return_exceptions=True), 5)
    assert outcomes[:2] == [None, None] and outcomes[3] is None
    assert isinstance(outcomes[2], ValueError)
    assert runs.seen == [[1], [2, 13, 4, 5], [2], [13], [4, 5]]


async def test_runs_are_capped_without_splitting_a_call_and_repeat_no_item() -> None:
    runs = Runs()
    joined = GroupCommit(runs, max_items=4)
    first = await _first_run_held(runs, joined)
    later = [asyncio.create_task(joined(items)) for items in ([2, 3], [3, 4], [5, 6, 7], [8])]
    await asyncio.sleep(0)
    runs.release.set()
    await asyncio.wait_for(asyncio.gather(first, *later), 5)
    assert runs.seen == [[1], [2, 3, 4], [5, 6, 7, 8]]


async def test_a_cancelled_caller_leaves_its_items_to_be_run_and_the_others_waiting() -> None:
    runs = Runs()
    joined = GroupCommit(runs, max_items=50)
    first = await _first_run_held(runs, joined)
    gone, stays = asyncio.create_task(joined([2])), asyncio.create_task(joined([3]))
    await asyncio.sleep(0)
    gone.cancel()
    runs.release.set()
    await asyncio.wait_for(asyncio.gather(first, stays), 5)
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert runs.seen == [[1], [2, 3]]


async def test_a_quiet_moment_ends_the_run_and_the_next_call_starts_another() -> None:
    runs = Runs()
    runs.release.set()
    joined = GroupCommit(runs, max_items=50)
    await asyncio.wait_for(joined([1]), 5)
    await asyncio.wait_for(joined([2]), 5)
    assert runs.seen == [[1], [2]]
