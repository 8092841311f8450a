"""`tracker up` as a user runs it: a real process on its own data dir, its output in a log."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil

from core.runtime.embedded import free_port


def start_up(data_dir: Path, api_port: int, log: Path, **env_vars: str) -> subprocess.Popen[bytes]:
    """`tracker up` on `data_dir` (embedded servers, local classifier), writing to `log`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_") and k != "TELEGRAM_BOT_TOKEN"}
    env.update(
        TRACKER_DATA_DIR=str(data_dir),
        TRACKER_API_PORT=str(api_port),
        TRACKER_DASHBOARD_PORT=str(free_port()),
        TRACKER_CLASSIFIER="local",
        **env_vars,
    )
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-c", "from services.cli import main; main()", "up"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


def processes_using(data_dir: Path) -> list[psutil.Process]:
    """Live processes whose command line names the data dir (PostgreSQL detaches from its parent)."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if str(data_dir) in cmdline and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(proc)
    return found


def child_running(up: subprocess.Popen[bytes], module: str) -> psutil.Process | None:
    """The live child of `tracker up` that runs `python -m <module>`, if any."""
    for child in psutil.Process(up.pid).children():
        try:
            if module in child.cmdline() and child.status() != psutil.STATUS_ZOMBIE:
                return child
        except psutil.NoSuchProcess:
            continue
    return None
