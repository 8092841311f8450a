"""Live reload for `tracker up --reload` (`just services-dev`): each part runs under watchfiles,
which restarts it when a Python file it is built from changes."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
SOURCES = {
    "api": ("core", "services/api"),
    "worker": ("core", "services/worker"),
    "dashboard": ("core", "apps"),
    "bot": ("core", "services/bot"),
}
"""The folders each part's code comes from: a change under one restarts that part only."""


def restarted_on_change(part: str, command: list[str]) -> list[str]:
    """`command` run by watchfiles: restarted (SIGINT, then SIGKILL after 10 s) when a .py file
    under the part's folders changes; SIGTERM to the wrapper stops both."""
    folders = [str(ROOT / folder) for folder in SOURCES[part]]
    return [
        sys.executable, "-m", "watchfiles", "--filter", "python", "--target-type", "command",
        "--sigint-timeout", "10", shlex.join(command), *folders,
    ]  # fmt: skip
