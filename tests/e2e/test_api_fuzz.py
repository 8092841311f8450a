"""API fuzzing: Schemathesis generates requests from the API's own OpenAPI schema (valid and
invalid bodies, parameters and methods, and sequences that follow the links between
operations) and sends them to a real API process. No answer may be a 5xx or a dropped
connection, and each must have a documented status code, content type and schema
(configuration: schemathesis.toml). Bounded and repeatable: a fixed number of examples per
operation and a fixed seed."""

from __future__ import annotations

import json
import shutil
import subprocess
import sysconfig
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.config import Settings
from tests.conftest import API_KEY
from tests.support.api import api_settings
from tests.support.processes import api_process

ROOT = Path(__file__).resolve().parents[2]
MAX_EXAMPLES = 20
"""Test cases per operation and phase: about 1,300 requests, under a minute on 2 loaded cores."""
SEED = 1


@pytest.fixture(scope="module")
def api_url(database_url: str, nats_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings: Settings = api_settings(tmp_path_factory.mktemp("fuzz"), database_url, nats_url, "fuzz")
    with api_process(settings, TRACKER_CLASSIFIER="local") as url:
        yield url


def schemathesis_run(api_url: str, har: Path) -> subprocess.CompletedProcess[str]:
    """`st run` over the API's schema, every request and answer recorded in `har`."""
    st = shutil.which("st", path=sysconfig.get_path("scripts"))
    assert st, "schemathesis is missing: uv sync"
    command = [
        st, "--no-color", "--config-file", str(ROOT / "schemathesis.toml"), "run", f"{api_url}/openapi.json",
        "--header", f"Authorization: Bearer {API_KEY}", "--max-examples", str(MAX_EXAMPLES),
        "--seed", str(SEED), "--workers", "1", "--report", "har", "--report-har-path", str(har),
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)


def test_fuzzed_requests_get_no_server_error_and_only_documented_answers(
    api_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    har = tmp_path / "fuzz.har"
    run = schemathesis_run(api_url, har)
    statuses = Counter(entry["response"]["status"] for entry in json.loads(har.read_text())["log"]["entries"])
    server_errors = sum(count for status, count in statuses.items() if status >= 500)
    with capsys.disabled():
        print(
            f"\nfuzzing: {statuses.total()} requests sent, {server_errors} answered 5xx; {dict(sorted(statuses.items()))}"
        )
    assert run.returncode == 0, run.stdout[-8000:]
    assert server_errors == 0
    operations = sum(
        len(methods) for methods in httpx.get(f"{api_url}/openapi.json").json()["paths"].values()
    )
    assert statuses.total() >= operations * MAX_EXAMPLES, "every operation got its examples"
