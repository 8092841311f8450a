"""`tracker up` on a fresh data dir: embedded servers, API, worker; clean stop; data kept."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import psutil

from core.runtime.embedded import free_port
from evals.harness import processes_using, tracker_up
from tests.support.processes import stop_process, wait_healthy, wait_until


def test_up_serves_stops_cleanly_and_keeps_data(tmp_path: Path) -> None:
    data_dir, port, log = tmp_path / "data", free_port(), tmp_path / "up.log"
    url = f"http://127.0.0.1:{port}"
    up = tracker_up(data_dir, port, log)
    try:
        wait_healthy(url, up, timeout=90)
        key = (data_dir / "api_key").read_text().strip()
        auth = {"Authorization": f"Bearer {key}"}
        message = {"source": "api", "chat_id": "c", "external_id": "1", "text": "checkout fails with 500"}
        assert httpx.post(f"{url}/api/messages", json=message, headers=auth).status_code == 201
        wait_until(
            lambda: httpx.get(f"{url}/api/messages", headers=auth).json()["items"][0]["status"] == "classified",
            timeout=60, what="classification by the worker",
        )  # fmt: skip
        children = psutil.Process(up.pid).children(recursive=True)
        assert len(children) >= 2  # api and worker at least
        up.send_signal(signal.SIGTERM)
        assert up.wait(60) == 0
        assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    finally:
        stop_process(up)
    output = log.read_text()
    assert url in output and key in output
    wait_until(lambda: not processes_using(data_dir), timeout=20, what="no process left behind")

    again = tracker_up(data_dir, port, log)
    try:
        wait_healthy(url, again, timeout=90)
        listed = httpx.get(f"{url}/api/messages", headers=auth).json()
        assert listed["total"] == 1 and listed["items"][0]["issue"]["kind"] in {
            "bug",
            "feature",
            "question",
            "task",
            "noise",
        }
    finally:
        stop_process(again, signal.SIGINT, timeout=60)
    wait_until(lambda: not processes_using(data_dir), timeout=20, what="no process left behind")
