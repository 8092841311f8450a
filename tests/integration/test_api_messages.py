"""POST/GET /api/messages against a real API process, PostgreSQL and NATS."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine, text

from core.config import Settings
from tests.conftest import API_KEY
from tests.support.processes import api_process

pytestmark = pytest.mark.backbone

AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture(scope="module")
def api_url(database_url: str, nats_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("api"),
        database_url=database_url,
        nats_url=nats_url,
        queue_name="apimessages",
        api_key=API_KEY,  # type: ignore[arg-type]
    )
    with api_process(settings) as url:
        yield url


@pytest.fixture
def client(api_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_url, headers=AUTH, timeout=30) as c:
        yield c


def message(external_id: str, **extra: object) -> dict[str, object]:
    return {"source": "api", "chat_id": "c1", "external_id": external_id, "text": "checkout fails"} | extra


def count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_post_message_stores_once(client: httpx.Client, engine: Engine) -> None:
    first = client.post("/api/messages", json=message("m1", author="Olena", sent_at="2026-11-20T10:00:00Z"))
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["id"] > 0 and body["status"] == "pending" and body["author"] == "Olena"
    again = client.post("/api/messages", json=message("m1"))
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM messages WHERE external_id = 'm1'")).scalar_one()
    assert n == 1


def test_batch_twice_adds_nothing(client: httpx.Client, engine: Engine) -> None:
    batch = {"messages": [message(f"b{i}") for i in range(50)]}
    first = client.post("/api/messages/batch", json=batch)
    assert first.status_code == 201, first.text
    assert first.json()["created"] == 50
    before = count(engine, "messages")
    second = client.post("/api/messages/batch", json=batch)
    assert second.json() | {"items": None} == {"created": 0, "existing": 50, "items": None}
    assert count(engine, "messages") == before


def test_reply_is_linked_to_parent(client: httpx.Client) -> None:
    parent = client.post("/api/messages", json=message("p1")).json()
    reply = client.post(
        "/api/messages", json=message("r1", text="у мене теж", reply_to_external_id="p1")
    ).json()
    assert reply["reply_to_id"] == parent["id"]
    listed = client.get("/api/messages", params={"thread_of": parent["id"]}).json()
    assert {m["id"] for m in listed["items"]} == {parent["id"], reply["id"]}
