"""Real servers for the suite: embedded PostgreSQL and NATS started here, or the ones
named by TRACKER_TEST_DATABASE_URL / TRACKER_TEST_NATS_URL (CI's own services)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from pydantic_ai import models
from sqlalchemy import Engine, create_engine, make_url, text

from core.config import Settings
from core.db import get_engine, migrate, sqlalchemy_url
from core.runtime.embedded import EmbeddedNats, EmbeddedPostgres

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
def servers_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("servers")


@pytest.fixture(scope="session")
def postgres_server_url(servers_root: Path) -> Iterator[str]:
    """Admin URL of the PostgreSQL server the suite uses."""
    external = os.environ.get("TRACKER_TEST_DATABASE_URL")
    if external:
        yield sqlalchemy_url(external)
        return
    pg = EmbeddedPostgres(servers_root / "pg").start()
    yield pg.url
    pg.stop()


@pytest.fixture(scope="session")
def nats_url(servers_root: Path) -> Iterator[str]:
    external = os.environ.get("TRACKER_TEST_NATS_URL")
    if external:
        yield external
        return
    server = EmbeddedNats(servers_root / "nats").start()
    yield server.url
    server.stop()


def create_database(server_url: str) -> str:
    """A fresh, migrated database on the server; returns its URL."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    migrate(url)
    return url


@pytest.fixture(scope="module")
def database_url(postgres_server_url: str) -> str:
    """A fresh migrated database for each test module."""
    return create_database(postgres_server_url)


@pytest.fixture(scope="module")
def engine(database_url: str) -> Engine:
    return get_engine(database_url)


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
