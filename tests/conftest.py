"""Real servers for the suite: embedded PostgreSQL and NATS started here, or the ones
named by TRACKER_TEST_DATABASE_URL / TRACKER_TEST_NATS_URL (CI's own services)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from pydantic import SecretStr
from pydantic_ai import models
from sqlalchemy import Engine

from core.config import Settings
from core.db import create_database, make_engine, sqlalchemy_url
from core.runtime.bootstrap import Services
from core.runtime.system import System, open_system

API_KEY = "test-key-0123456789"

# No test reaches an LLM by accident: one that talks to an LLM server over HTTP (the stand-in
# or llama-cpp) asks for it with the `model_requests` fixture.
models.ALLOW_MODEL_REQUESTS = False


@pytest.fixture
def model_requests() -> Iterator[None]:
    """Real model requests (over HTTP to a local LLM server) allowed for this test."""
    with models.override_allow_model_requests(True):
        yield


@pytest.fixture(scope="session")
def suite_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """The suite's servers, opened the way every entry point opens them: the ones named by
    TRACKER_TEST_DATABASE_URL / TRACKER_TEST_NATS_URL, else embedded ones started here."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path_factory.mktemp("servers"),
        database_url=os.environ.get("TRACKER_TEST_DATABASE_URL"),
        nats_url=os.environ.get("TRACKER_TEST_NATS_URL"),
    )
    with open_system(settings, migrate=False) as system:  # each test module migrates its own database
        yield system


@pytest.fixture(scope="session")
def postgres_server_url(suite_system: System) -> str:
    """Admin URL of the PostgreSQL server the suite uses."""
    return sqlalchemy_url(suite_system.settings.database_url or "")


@pytest.fixture(scope="session")
def nats_url(suite_system: System) -> str:
    return suite_system.settings.nats_url or ""


@contextmanager
def engine_on(url: str) -> Iterator[Engine]:
    """An engine on one of the suite's databases, disposed after use."""
    made = make_engine(url)
    try:
        yield made
    finally:
        made.dispose()


@pytest.fixture(scope="module")
def database_url(postgres_server_url: str) -> str:
    """A fresh migrated database for each test module."""
    return create_database(postgres_server_url)


@pytest.fixture(scope="module")
def engine(database_url: str) -> Iterator[Engine]:
    """The test module's engine on its database (disposed at the module's end)."""
    with engine_on(database_url) as made:
        yield made


@pytest.fixture
def queue_name() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def settings(database_url: str, nats_url: str, queue_name: str, tmp_path: Path) -> Settings:
    """Settings bound to the suite's servers, with a queue of this test's own."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        nats_url=nats_url,
        queue_name=queue_name,
        api_key=SecretStr(API_KEY),
        classifier="local",
        task_ack_wait=10.0,
        retry_base_seconds=0.5,
        retry_max_seconds=2.0,
    )


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    """The connected services (database and queue) of a system opened on `settings`."""
    with open_system(settings, migrate=False) as system:
        connected = await system.services()
        yield connected
        await connected.close()


@pytest.fixture
def dashboard(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The dashboard's environment (database, NATS, password) for AppTest runs."""
    from tests.support.dashboard import dashboard_env

    with dashboard_env(settings, monkeypatch):
        yield


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI a skipped test is a failing test."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if os.environ.get("CI") and skipped and exitstatus == 0:
        session.exitstatus = 1
        if reporter:
            reporter.write_line(f"CI: {len(skipped)} test(s) skipped; a skipped test fails CI", red=True)
