"""`tracker dashboard` runs the dashboard alone, prints where and with which password, stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import psutil
import pytest

from core.runtime.embedded import free_port
from tests.support.processes import stop_process, wait_until


def serving(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_tracker_dashboard_serves_the_dashboard_alone(
    database_url: str, nats_url: str, tmp_path: Path, stop: signal.Signals
) -> None:
    port, log = free_port(), tmp_path / "dashboard.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")} | {
        "TRACKER_DATABASE_URL": database_url,
        "TRACKER_NATS_URL": nats_url,
        "TRACKER_DATA_DIR": str(tmp_path / "data"),
        "TRACKER_DASHBOARD_PORT": str(port),
        "TRACKER_DASHBOARD_PASSWORD": "let-me-in-please",
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from services.cli import main; main()", "dashboard"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_until(
            lambda: serving(f"http://127.0.0.1:{port}/_stcore/health"), timeout=60, what="the dashboard"
        )
        children = psutil.Process(proc.pid).children(recursive=True)
        [dashboard] = [" ".join(c.cmdline()) for c in children]
        assert "streamlit run" in dashboard and "apps/dashboard.py" in dashboard
        proc.send_signal(stop)
        assert proc.wait(30) == 0
        assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    finally:
        stop_process(proc)
    output = log.read_text()
    assert f"http://127.0.0.1:{port}" in output and "let-me-in-please" in output
