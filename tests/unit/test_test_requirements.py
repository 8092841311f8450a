"""A test that needs what the default install leaves out says what to install: skipped outside
CI with the command, failed in CI."""

from __future__ import annotations

import re

import pytest

from tests.support.requirements import BROWSER_INSTALL, TEST_COMMAND, missing, require_e2e_group


def test_outside_ci_a_missing_group_skips_the_test_with_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=re.escape(TEST_COMMAND)) as skipped:
        require_e2e_group("no_such_module_in_the_e2e_group", "The thing")
    assert "uv sync --group e2e" in str(skipped.value)


def test_in_ci_a_missing_browser_fails_the_test_with_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception) as failed:
        missing("A Chromium browser", BROWSER_INSTALL)
    assert "apt-get install -y chromium" in str(failed.value)
    assert "playwright install --with-deps chromium" in str(failed.value)


def test_an_installed_module_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    require_e2e_group("pytest", "pytest")
