"""Exports through the real API and worker processes, NATS and PostgreSQL, to a webhook
receiver on loopback: accept -> exported once; POST /api/tasks/{id}/exports -> 202; bad input."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import Engine

from core.config import Settings
from core.db import session_scope
from core.exports import targets
from core.exports.vault import vault
from core.models import ExportTarget
from evals.webhook_receiver import Receiver, running
from tests.support.api import AUTH, api_settings
from tests.support.processes import STARTUP_SECONDS, api_process, wait_until, worker_process, worker_ready

pytestmark = pytest.mark.backbone
SECRET = "whsec-api-0123456789"


@pytest.fixture(scope="module")
def module_settings(database_url: str, nats_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return api_settings(tmp_path_factory.mktemp("exports"), database_url, nats_url, "exportsapi",
                        classifier="local")  # fmt: skip


@pytest.fixture(scope="module")
def receiver(engine: Engine, module_settings: Settings) -> Iterator[Receiver]:
    with running(Receiver(SECRET)) as r, session_scope(engine) as session:
        row = ExportTarget(name="team-hook", type="webhook", url=r.url)
        targets.add_target(session, row, vault(module_settings), SecretStr(SECRET))
        session.commit()
        yield r


@pytest.fixture(scope="module")
def client(module_settings: Settings, receiver: Receiver) -> Iterator[httpx.Client]:
    with api_process(module_settings) as url, worker_process(module_settings, TRACKER_EXPORT_LEASE="5"):
        wait_until(lambda: worker_ready(module_settings), timeout=STARTUP_SECONDS, what="worker pulling")
        with httpx.Client(base_url=url, headers=AUTH, timeout=30) as c:
            yield c


def exports(client: httpx.Client, task_id: int) -> list[dict[str, Any]]:
    answer = client.get(f"/api/tasks/{task_id}")
    assert answer.status_code == 200
    return list(answer.json()["exports"])


def exported(client: httpx.Client, task_id: int) -> bool:
    return [e["status"] for e in exports(client, task_id)] == ["exported"]


def test_accept_exports_once_and_the_task_lists_it(client: httpx.Client, receiver: Receiver) -> None:
    task = client.post("/api/tasks", json={"title": "invoice PDF is empty", "kind": "bug"}).json()
    assert exports(client, task["id"]) == [], "a new task is not exported (the target waits for acceptance)"
    assert client.patch(f"/api/tasks/{task['id']}", json={"status": "accepted"}).status_code == 200
    wait_until(lambda: exported(client, task["id"]), timeout=60, what="export done")
    [export] = exports(client, task["id"])
    assert export["target"] == "team-hook" and export["attempts"] == 1 and export["last_error"] is None
    assert SECRET not in str(client.get(f"/api/tasks/{task['id']}").json())
    mine = [d for d in receiver.kept.values() if d["task"]["id"] == task["id"]]
    assert len(mine) == 1 and mine[0]["task"]["status"] == "accepted"


def test_post_export_is_202_and_sends_the_update(client: httpx.Client, receiver: Receiver) -> None:
    task = client.post("/api/tasks", json={"title": "dark mode", "kind": "feature"}).json()
    before = len(receiver.requests)
    answer = client.post(f"/api/tasks/{task['id']}/exports", json={"target": "team-hook"})
    assert answer.status_code == 202 and answer.json()["status"] == "pending"
    wait_until(lambda: exported(client, task["id"]), timeout=60, what="manual export done")
    assert len(receiver.requests) == before + 1


def test_bad_export_requests_name_the_field(client: httpx.Client) -> None:
    task = client.post("/api/tasks", json={"title": "x"}).json()
    unknown = client.post(f"/api/tasks/{task['id']}/exports", json={"target": "trello"})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["field"] == "target"
    missing = client.post("/api/tasks/999999/exports", json={"target": "team-hook"})
    assert missing.status_code == 404
    empty = client.post(f"/api/tasks/{task['id']}/exports", json={})
    assert empty.status_code == 422 and "target" in str(empty.json())


def test_tasks_list_filters_by_export_target(client: httpx.Client) -> None:
    sent, kept = (
        client.post("/api/tasks", json={"title": t, "kind": "bug"}).json() for t in ("sent", "kept")
    )
    client.patch(f"/api/tasks/{sent['id']}", json={"status": "accepted"})
    wait_until(lambda: exported(client, sent["id"]), timeout=60, what="export done")
    listed = client.get("/api/tasks", params={"exported_to": "team-hook", "limit": 500}).json()
    ids = {t["id"] for t in listed["items"]}
    assert sent["id"] in ids and kept["id"] not in ids and listed["total"] == len(ids)
    unknown = client.get("/api/tasks", params={"exported_to": "trello"})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["field"] == "exported_to"
