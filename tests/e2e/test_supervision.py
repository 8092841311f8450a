"""`tracker up` heals itself: a killed worker, NATS or PostgreSQL comes back and messages
posted afterwards are classified; a part that keeps crashing stops it, named, non-zero."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from core.runtime.embedded import free_port
from evals.harness import nats_pid, part_pid, postmaster_pid, processes_using, tracker_up
from tests.support.api import message
from tests.support.processes import STARTUP_SECONDS, stop_process, wait_healthy, wait_until

# Each test restarts processes that take tens of seconds to start on a loaded 2-core machine.
pytestmark = pytest.mark.timeout(STARTUP_SECONDS * 4)


@dataclass
class Up:
    process: subprocess.Popen[bytes]
    url: str
    auth: dict[str, str]
    data_dir: Path
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def post_and_wait_classified(self, external_id: str) -> int:
        """Post a message (again while a restarted part is not back yet) until it is stored,
        then wait until the worker classified it."""
        body = message(external_id, text="the export button crashes the app")
        stored: dict[str, int] = {}

        def post() -> bool:
            try:
                response = httpx.post(f"{self.url}/api/messages", json=body, headers=self.auth, timeout=10)
            except httpx.HTTPError:
                return False
            if response.status_code in (200, 201):
                stored["id"] = response.json()["id"]
            return bool(stored)

        wait_until(post, timeout=STARTUP_SECONDS, what=f"message {external_id} stored")
        wait_until(
            lambda: self.status(stored["id"]) == "classified",
            timeout=STARTUP_SECONDS, what=f"message {external_id} classified",
        )  # fmt: skip
        return stored["id"]

    def status(self, message_id: int) -> str | None:
        try:
            response = httpx.get(f"{self.url}/api/messages/{message_id}", headers=self.auth, timeout=10)
        except httpx.HTTPError:
            return None
        return str(response.json()["status"]) if response.status_code == 200 else None


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    """One `tracker up` for the module's kills (each test leaves it running and healthy)."""
    root = tmp_path_factory.mktemp("supervised")
    data_dir, port, log = root / "data", free_port(), root / "up.log"
    process = tracker_up(data_dir, port, log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        key = (data_dir / "api_key").read_text().strip()
        yield Up(process, url, {"Authorization": f"Bearer {key}"}, data_dir, log)
        assert process.poll() is None, "tracker up exited"
    finally:
        stop_process(process, timeout=60)
    wait_until(lambda: not processes_using(data_dir), timeout=30, what="no process left behind")


def test_a_killed_worker_is_restarted_and_classifies(up: Up) -> None:
    worker = part_pid(up.process, "services.worker")
    assert worker is not None
    up.post_and_wait_classified("before-kill")
    os.kill(worker, signal.SIGKILL)
    wait_until(
        lambda: part_pid(up.process, "services.worker") not in (None, worker),
        timeout=STARTUP_SECONDS, what="a new worker",
    )  # fmt: skip
    up.post_and_wait_classified("after-kill")
    assert "worker was killed by SIGKILL; restarting it" in up.output()
    assert up.process.poll() is None


def test_a_killed_nats_is_restarted_with_its_queue(up: Up) -> None:
    old = nats_pid(up.data_dir)
    assert old is not None
    os.kill(old, signal.SIGKILL)
    wait_until(
        lambda: nats_pid(up.data_dir) not in (None, old), timeout=STARTUP_SECONDS, what="a new nats-server"
    )
    up.post_and_wait_classified("after-nats-kill")
    assert "NATS stopped running; restarting it" in up.output()
    assert up.process.poll() is None


def test_a_killed_postgres_is_restarted_with_its_data(up: Up) -> None:
    before = up.post_and_wait_classified("before-postgres-kill")
    old = postmaster_pid(up.data_dir)
    assert old is not None
    os.kill(old, signal.SIGKILL)
    wait_until(
        lambda: postmaster_pid(up.data_dir) not in (None, old),
        timeout=STARTUP_SECONDS, what="a new postmaster",
    )  # fmt: skip
    up.post_and_wait_classified("after-postgres-kill")
    assert up.status(before) == "classified"
    assert "PostgreSQL stopped running; restarting it" in up.output()
    assert up.process.poll() is None


def test_a_part_that_keeps_crashing_stops_up_naming_it(tmp_path: Path) -> None:
    data_dir, log = tmp_path / "data", tmp_path / "up.log"
    # A malformed bot token: the bot exits at every start (aiogram refuses it), the rest runs.
    up = tracker_up(
        data_dir, free_port(), log,
        TELEGRAM_BOT_TOKEN="not-a-token", TRACKER_RESTART_BACKOFF="0.05", TRACKER_RESTART_WINDOW="3600",
    )  # fmt: skip
    try:
        code = up.wait(STARTUP_SECONDS * 3)
    finally:
        stop_process(up)
    output = log.read_text(errors="replace")
    assert code != 0
    assert "bot exited with code 1 (5 exits within 3600 s): stopping everything." in output
    last_error = output.split("Last error of bot:", 1)[1]
    assert "TokenValidationError" in last_error
    wait_until(lambda: not processes_using(data_dir), timeout=30, what="no process left behind")
