"""The supervision loop on real child processes: restarts with backoff, gives up naming the
part and its last error, stops its children when told to."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable

import pytest

from core.runtime.supervision import ChildProcess, GaveUp, RestartPolicy, supervise

FAST = RestartPolicy(limit=3, window=3600, backoff=0.01, backoff_max=0.02)


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


async def wait_for(predicate: Callable[[], bool]) -> None:
    """Look until the predicate holds (a restart is a process start: nothing to await on)."""
    async with asyncio.timeout(60):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


def test_backoff_doubles_with_each_recent_exit_up_to_the_cap() -> None:
    policy = RestartPolicy(limit=5, window=60, backoff=0.5, backoff_max=3)
    assert [policy.delay(n) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 3, 3]


async def test_a_child_that_keeps_exiting_stops_the_supervision_with_its_last_error() -> None:
    child = ChildProcess(
        "flaky", python("import sys; print('disk is full', file=sys.stderr); sys.exit(3)"), {}
    )
    said: list[str] = []
    await child.start()
    with pytest.raises(GaveUp) as gave_up:
        await supervise([child], FAST, asyncio.Event(), said.append)
    message = str(gave_up.value)
    assert message.startswith("flaky exited with code 3 (3 exits within 3600 s): stopping everything.")
    assert message.endswith("Last error of flaky:\n  disk is full")
    assert said == [
        "flaky exited with code 3; restarting it in 0.0 s (exit 1 within 3600 s; exit 3 stops everything)",
        "flaky exited with code 3; restarting it in 0.0 s (exit 2 within 3600 s; exit 3 stops everything)",
    ]


async def test_a_killed_child_is_restarted_and_stopped_with_the_supervision() -> None:
    child = ChildProcess("sleeper", python("import time; time.sleep(3600)"), dict(os.environ))
    said: list[str] = []
    stop = asyncio.Event()
    await child.start()
    assert child.process is not None
    first = child.process
    running = asyncio.create_task(supervise([child], FAST, stop, said.append))
    first.send_signal(signal.SIGKILL)
    await wait_for(lambda: child.process is not first)
    assert said == [
        "sleeper was killed by SIGKILL; restarting it in 0.0 s (exit 1 within 3600 s; exit 3 stops everything)"
    ]
    stop.set()
    await running
    await child.stop()
    assert child.process.returncode == -signal.SIGTERM
    assert len(said) == 1  # the stop was no exit to restart
