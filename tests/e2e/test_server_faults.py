"""Server faults without process restarts: an API process and a worker ride out a NATS restart
and a PostgreSQL restart (real embedded servers, stopped and started again on the same ports).
Meanwhile /api/health answers 503 naming what is down and requests get a clear 503 at once
(never a hang or a 500); messages stored while NATS was away are queued and classified after,
and a WebSocket client connected throughout receives every event."""

from __future__ import annotations

import os
import secrets
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import text

from core.config import Settings
from core.runtime.embedded import EmbeddedNats, EmbeddedPostgres
from core.runtime.system import System, open_system
from tests.conftest import API_KEY
from tests.support.api import AUTH, message
from tests.support.events import listening
from tests.support.processes import STARTUP_SECONDS, api_process, wait_until, worker_process, worker_ready

pytestmark = pytest.mark.timeout(STARTUP_SECONDS * 3)
PROMPT = 20.0
"""Seconds within which a request must be answered while a server is down: no hang (generous,
for a loaded machine)."""


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    """Embedded PostgreSQL and NATS of this test's own, which it stops and starts again."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path / "data",
        queue_name=f"faults{secrets.token_hex(4)}",
        api_key=SecretStr(API_KEY),
        classifier="local",
        task_ack_wait=10.0,
        retry_base_seconds=0.5,
        retry_max_seconds=2.0,
    )
    with open_system(settings) as opened:
        yield opened


def post(url: str, external_id: str) -> httpx.Response:
    return httpx.post(f"{url}/api/messages", json=message(external_id), headers=AUTH, timeout=PROMPT)


def health(url: str) -> httpx.Response:
    return httpx.get(f"{url}/api/health", timeout=PROMPT * 2)


def status_of(system: System, ids: set[int]) -> dict[int, str]:
    with system.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, status FROM messages WHERE id = ANY(:ids)"), {"ids": list(ids)})
        return {int(r.id): str(r.status) for r in rows}


def classified(system: System, ids: set[int]) -> bool:
    return set(status_of(system, ids).values()) == {"classified"}


def down_names(url: str) -> list[str] | None:
    response = health(url)
    return list(response.json()["down"]) if response.status_code == 503 else None


def stop_nats(nats: EmbeddedNats) -> None:
    assert nats.process is not None
    nats.process.send_signal(signal.SIGTERM)
    nats.process.wait(30)


def stop_postgres(postgres: EmbeddedPostgres) -> None:
    """A fast shutdown (SIGINT to the postmaster), as `pg_ctl stop -m fast` does."""
    pid = int((postgres.pgdata / "postmaster.pid").read_text().split()[0])
    os.kill(pid, signal.SIGINT)
    wait_until(lambda: not postgres.running(), timeout=30, what="PostgreSQL stopped")


def answered_promptly(request: Any) -> httpx.Response:
    started = time.monotonic()
    response: httpx.Response = request()
    assert time.monotonic() - started < PROMPT
    return response


def ride_out_nats(system: System, url: str) -> set[int]:
    """NATS stopped: health names it, messages are stored at once (pending) and classified
    after NATS is back; their ids."""
    nats = system.servers.nats
    assert nats is not None
    stop_nats(nats)
    wait_until(lambda: down_names(url) == ["nats"], timeout=30, what="health naming NATS")
    stored = {answered_promptly(lambda i=i: post(url, f"nats-{i}")).json()["id"] for i in range(5)}
    assert set(status_of(system, stored).values()) == {"pending"}
    nats.restart()
    wait_until(lambda: health(url).status_code == 200, timeout=60, what="health back after NATS")
    wait_until(lambda: classified(system, stored), timeout=60, what="NATS-outage messages classified")
    return stored


def ride_out_postgres(system: System, url: str) -> set[int]:
    """PostgreSQL stopped: health names it, requests get an immediate 503; once it is back,
    messages are stored and classified again; their ids."""
    postgres = system.servers.postgres
    assert postgres is not None
    stop_postgres(postgres)
    wait_until(lambda: down_names(url) == ["postgres"], timeout=30, what="health naming PostgreSQL")
    refused = answered_promptly(lambda: post(url, "pg-down"))
    assert refused.status_code == 503 and refused.headers["Retry-After"]
    assert refused.json()["detail"][0]["field"] == "postgres"
    listed = answered_promptly(lambda: httpx.get(f"{url}/api/tasks", headers=AUTH, timeout=PROMPT))
    assert listed.status_code == 503
    postgres.restart()
    wait_until(lambda: health(url).status_code == 200, timeout=60, what="health back after PostgreSQL")
    stored = {post(url, f"after-{i}").json()["id"] for i in range(3)}
    wait_until(lambda: classified(system, stored), timeout=60, what="messages after PostgreSQL classified")
    return stored


def test_api_and_worker_ride_out_a_nats_and_a_postgres_restart(system: System) -> None:
    with worker_process(system.settings) as worker, api_process(system.settings) as url:
        wait_until(lambda: worker_ready(system.settings), timeout=STARTUP_SECONDS, what="worker pulling")
        with listening(url) as listener:
            every = {post(url, "before").json()["id"]}
            wait_until(lambda: classified(system, every), timeout=60, what="first message classified")
            every |= ride_out_nats(system, url)
            every |= ride_out_postgres(system, url)
            received = lambda: listener.ids("message.classified", "message_id")  # noqa: E731
            wait_until(lambda: received() >= every, timeout=30, what="every event on /ws")
            assert listener.ids("message.created") >= every
        assert worker.poll() is None, "the worker exited"
        assert health(url).status_code == 200, "the API process answers as before"
    assert len(status_of(system, every)) == len(every)
