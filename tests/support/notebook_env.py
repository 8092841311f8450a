"""The environment of the notebooks' own test cells (`pytest notebooks/`).

Cells read TRACKER_* settings the way `tracker` does, so the test cells see a fresh database of
the suite's PostgreSQL holding triaged messages, a data dir of their own, and an LLM that does
not answer (the local classifier is what still works). In the marimo editor, test cells run on
the live notebook instead (marimo sets MARIMO_PYTEST_WASM), so nothing is set up there.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.runtime.embedded import free_port
from tests.conftest import create_database, engine_on
from tests.support.triage_data import add_triaged

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.fixture(scope="session")
def notebook_env(postgres_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """TRACKER_* variables for a database with triaged messages and an unreachable LLM."""
    url = create_database(postgres_server_url)
    with engine_on(url) as engine:
        add_triaged(engine)
    return {
        "TRACKER_DATABASE_URL": url,
        "TRACKER_DATA_DIR": str(tmp_path_factory.mktemp("notebook-data")),
        "TRACKER_LLM_PROVIDER": "openai",
        "TRACKER_LLM_BASE_URL": f"http://127.0.0.1:{free_port()}/v1",
    }


@pytest.fixture(autouse=True)
def notebook_cells_env(request: pytest.FixtureRequest) -> None:
    """Point the notebooks' test cells at `notebook_env` (other tests are left alone)."""
    if not request.node.path.resolve().is_relative_to(NOTEBOOKS) or os.environ.get("MARIMO_PYTEST_WASM"):
        return
    monkeypatch: pytest.MonkeyPatch = request.getfixturevalue("monkeypatch")
    for name, value in request.getfixturevalue("notebook_env").items():
        monkeypatch.setenv(name, value)
    request.getfixturevalue("model_requests")  # the cells try the (closed) LLM port for real
