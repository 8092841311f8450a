"""What some tests need beyond the default install (the `e2e` dependency group, a browser), and
what a test does without it: skipped with the command that installs it, or failed in CI."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

TEST_COMMAND = "uv run --group e2e pytest"
E2E_GROUP = f"`uv sync --group e2e` (or run the suite as `{TEST_COMMAND}`)"
DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
BROWSER_INSTALL = (
    "`sudo apt-get update && sudo apt-get install -y chromium` (Debian) or "
    "`uv run --group e2e playwright install --with-deps chromium`"
)


def missing(what: str, install: str) -> NoReturn:
    """Skip the test, naming what to install; in CI (env CI set) fail it instead."""
    reason = f"{what} is not installed: install it with {install}"
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI installs everything the suite needs)", pytrace=False)
    pytest.skip(reason)


def require_e2e_group(module: str, what: str) -> None:
    """The e2e dependency group's `module` is importable, or the test says how to install it."""
    if importlib.util.find_spec(module) is None:
        missing(what, E2E_GROUP)


def debian_chromium() -> Path | None:
    """Debian's Chromium when installed (preferred: no downloaded browser needed)."""
    found = shutil.which("chromium") or (str(DEBIAN_CHROMIUM) if DEBIAN_CHROMIUM.exists() else None)
    return Path(found) if found else None
