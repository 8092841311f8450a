"""`tracker up --reload` (what `just services-dev` runs): a part restarts when its code changes,
the other parts keep running, and SIGTERM still stops everything. The test runs and edits a
copy of the code, never the repository's files."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from core.runtime.embedded import free_port
from tests.support.processes import STARTUP_SECONDS, stop_process, wait_healthy, wait_until

ROOT = Path(__file__).parents[2]
CODE = ("core", "services", "apps", "evals")
PART_MARKERS = {"api": "-m services.api", "worker": "-m services.worker", "dashboard": "-m streamlit run"}


@pytest.fixture
def code_copy(tmp_path: Path) -> Path:
    """The project's code in a folder of its own (imported first through PYTHONPATH)."""
    copy = tmp_path / "code"
    for folder in CODE:
        shutil.copytree(ROOT / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


@pytest.fixture
def reloading_up(code_copy: Path, database_url: str, nats_url: str, tmp_path: Path) -> Iterator[dict]:  # type: ignore[type-arg]
    """`tracker up --reload` run from the copy, on the suite's PostgreSQL and NATS."""
    api_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")} | {
        "PYTHONPATH": str(code_copy),
        "TRACKER_DATABASE_URL": database_url,
        "TRACKER_NATS_URL": nats_url,
        "TRACKER_DATA_DIR": str(tmp_path / "data"),
        "TRACKER_API_PORT": str(api_port),
        "TRACKER_DASHBOARD_PORT": str(free_port()),
        "TRACKER_CLASSIFIER": "local",
        "TRACKER_QUEUE_NAME": f"reload{uuid.uuid4().hex[:8]}",
    }
    log = tmp_path / "up.log"
    with log.open("wb") as out:
        up = subprocess.Popen(
            [sys.executable, "-c", "from services.cli import main; main()", "up", "--reload"],
            cwd=code_copy, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        yield {"up": up, "api": f"http://127.0.0.1:{api_port}", "code": code_copy, "log": log}
    finally:
        stop_process(up, timeout=60)


def running_parts(up: subprocess.Popen[bytes]) -> dict[str, int]:
    """Each part's running process (the child of its watchfiles wrapper), by part name."""
    found: dict[str, int] = {}
    for wrapper in psutil.Process(up.pid).children():
        try:
            command = " ".join(wrapper.cmdline())
            runs = [c for c in wrapper.children() if c.status() != psutil.STATUS_ZOMBIE]
        except psutil.NoSuchProcess:
            continue
        part = next((p for p, marker in PART_MARKERS.items() if marker in command), None)
        if "-m watchfiles" in command and part and runs:
            found[part] = runs[0].pid
    return found


def edit(path: Path) -> None:
    with path.open("a") as source:
        source.write("\n# edited by the live-reload test\n")


def restarted(up: subprocess.Popen[bytes], before: dict[str, int], parts: set[str]) -> bool:
    now = running_parts(up)
    return all(now.get(part) not in (None, before[part]) for part in parts)


def test_a_code_change_restarts_the_parts_built_from_it(reloading_up: dict) -> None:  # type: ignore[type-arg]
    up, api = reloading_up["up"], reloading_up["api"]
    wait_healthy(api, up)
    wait_until(lambda: len(running_parts(up)) == 3, timeout=STARTUP_SECONDS, what="api, worker and dashboard")
    first = running_parts(up)

    edit(reloading_up["code"] / "services" / "api" / "app.py")
    wait_until(lambda: restarted(up, first, {"api"}), timeout=STARTUP_SECONDS, what="the API to restart")
    wait_healthy(api, up)
    second = running_parts(up)
    assert (second["worker"], second["dashboard"]) == (first["worker"], first["dashboard"])

    edit(reloading_up["code"] / "core" / "models.py")
    wait_until(
        lambda: restarted(up, second, set(second)), timeout=STARTUP_SECONDS, what="every part to restart"
    )
    wait_healthy(api, up)
    assert up.poll() is None, reloading_up["log"].read_text()[-3000:]

    everything = psutil.Process(up.pid).children(recursive=True)
    up.send_signal(signal.SIGTERM)
    assert up.wait(60) == 0
    wait_until(
        lambda: not [p for p in everything if p.is_running() and p.status() != psutil.STATUS_ZOMBIE],
        timeout=30, what="every part and wrapper to stop",
    )  # fmt: skip
