"""Bad input against a real API process: always a 4xx naming the field, never a 5xx,
and nothing stored (row counts of every table the API writes stay the same)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.support.api import AUTH, api_settings, message, row_counts
from tests.support.processes import api_process

HUGE_ID = 2**70
SMALL_TEXT = 100
SMALL_BATCH = 10


@pytest.fixture(scope="module")
def api_url(database_url: str, nats_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = api_settings(tmp_path_factory.mktemp("api"), database_url, nats_url, "apivalidation")
    with api_process(settings) as url:
        yield url


@pytest.fixture(scope="module")
def small_api_url(
    database_url: str, nats_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A second API with TRACKER_MAX_TEXT_BYTES / TRACKER_MAX_BATCH set small."""
    settings = api_settings(tmp_path_factory.mktemp("small"), database_url, nats_url, "apivalidation")
    with api_process(
        settings, TRACKER_MAX_TEXT_BYTES=str(SMALL_TEXT), TRACKER_MAX_BATCH=str(SMALL_BATCH)
    ) as url:
        yield url


@pytest.fixture(scope="module")
def client(api_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_url, headers=AUTH, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def small(small_api_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=small_api_url, headers=AUTH, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def task(client: httpx.Client) -> dict[str, Any]:
    """A stored task (from a stored message) the PATCH cases aim at."""
    stored = client.post("/api/messages", json=message("task-source")).json()
    response = client.post("/api/tasks", json={"title": "Fix checkout", "message_ids": [stored["id"]]})
    assert response.status_code == 201, response.text
    return dict(response.json())


def refused(
    client: httpx.Client, engine: Engine, method: str, path: str, field: str, status: int = 422, **kw: Any
) -> dict[str, Any]:
    """Send a bad request; check the status, the named field, and that no row was written."""
    before = row_counts(engine)
    response = client.request(method, path, **kw)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    detail = response.json()["detail"]
    assert field in [e["field"] for e in detail], detail
    assert all(e["message"] for e in detail)
    assert row_counts(engine) == before
    return dict(response.json())


NUL_FIELDS = [
    "source", "chat_id", "external_id", "text", "chat_title", "author_id", "author",
    "reply_to_external_id", "thread_id", "thread_title", "media_kind", "forwarded_from",
]  # fmt: skip

BAD_MESSAGES: list[tuple[str, dict[str, Any], str]] = [
    *[(f"nul-{f}", message("x") | {f: "a\x00b"}, f) for f in NUL_FIELDS],
    ("text-over-limit", message("x", text="x" * (16 * 1024 + 1)), "text"),
    ("text-over-limit-in-bytes", message("x", text="é" * (8 * 1024 + 1)), "text"),
    ("date-garbage", message("x", sent_at="yesterday"), "sent_at"),
    ("date-month-13", message("x", sent_at="2026-13-01T10:00:00Z"), "sent_at"),
    ("date-feb-30", message("x", sent_at="2026-02-30T10:00:00Z"), "sent_at"),
    ("date-empty", message("x", sent_at=""), "sent_at"),
    ("date-huge-number", message("x", sent_at=10**30), "sent_at"),
    ("date-year-0", message("x", sent_at="0000-01-01T00:00:00Z"), "sent_at"),
    ("date-year-1-east", message("x", sent_at="0001-01-01T00:00:00+14:00"), "sent_at"),
    ("date-year-9999-west", message("x", sent_at="9999-12-31T23:59:59-14:00"), "sent_at"),
    ("date-tz-garbage", message("x", sent_at="2026-01-01T10:00:00+99:00"), "sent_at"),
    ("text-number", message("x", text=123), "text"),
    ("text-null", message("x", text=None), "text"),
    ("text-list", message("x", text=["a"]), "text"),
    ("chat-id-object", message("x", chat_id={"a": 1}), "chat_id"),
    ("external-id-number", message("x") | {"external_id": 17}, "external_id"),
    ("classify-not-bool", message("x", classify="maybe"), "classify"),
    ("author-too-long", message("x", author="a" * 257), "author"),
    ("source-too-long", message("x", source="s" * 33), "source"),
    ("external-id-too-long", message("e" * 129), "external_id"),
    ("source-blank", message("x", source="   "), "source"),
    ("chat-id-empty", message("x", chat_id=""), "chat_id"),
    ("unknown-field", message("x", priority="high"), "priority"),
    *[
        (f"missing-{f}", {k: v for k, v in message("x").items() if k != f}, f)
        for f in ("source", "chat_id", "external_id", "text")
    ],
]


@pytest.mark.parametrize(("body", "field"), [c[1:] for c in BAD_MESSAGES], ids=[c[0] for c in BAD_MESSAGES])
def test_bad_message_is_refused(
    client: httpx.Client, engine: Engine, body: dict[str, Any], field: str
) -> None:
    refused(client, engine, "POST", "/api/messages", field, json=body)


@pytest.mark.parametrize(("body", "field"), [c[1:] for c in BAD_MESSAGES], ids=[c[0] for c in BAD_MESSAGES])
def test_bad_item_in_a_batch_refuses_the_batch(
    client: httpx.Client, engine: Engine, body: dict[str, Any], field: str
) -> None:
    items = [message(f"ok-{i}") for i in range(10)]
    items[5] = body
    refused(client, engine, "POST", "/api/messages/batch", f"messages.5.{field}", json={"messages": items})


RAW_BODIES: list[tuple[str, bytes, str, int]] = [
    ("truncated", b'{"source": "api", "chat_id": ', "body", 422),
    ("trailing-comma", b'{"source": "api",}', "body", 422),
    ("not-utf8", b'{"source": "\xff\xfe", "chat_id": "c", "external_id": "e", "text": "t"}', "body", 400),
    (
        "lone-surrogate",
        b'{"source": "api", "chat_id": "c", "external_id": "e", "text": "a\\ud800b"}',
        "text",
        422,
    ),
    ("nan", b'{"source": "api", "chat_id": "c", "external_id": "e", "text": NaN}', "text", 422),
    ("empty", b"", "body", 422),
    ("null", b"null", "body", 422),
    ("array", b"[1, 2]", "body", 422),
    ("string", b'"hello"', "body", 422),
    ("deeply-nested", b'{"text": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "body", 400),
]
"""Bodies that are not a JSON object: the field, and the status (400: not even text)."""
WHOLE_BODY_FIELD = {"/api/messages": "text", "/api/messages/batch": "messages", "/api/tasks": "title"}


@pytest.mark.parametrize(
    ("raw", "field", "status"), [c[1:] for c in RAW_BODIES], ids=[c[0] for c in RAW_BODIES]
)
@pytest.mark.parametrize("path", ["/api/messages", "/api/messages/batch", "/api/tasks"])
def test_malformed_json_is_refused(
    client: httpx.Client, engine: Engine, path: str, raw: bytes, field: str, status: int
) -> None:
    field = WHOLE_BODY_FIELD[path] if field == "text" else field
    headers = {"content-type": "application/json"}
    refused(client, engine, "POST", path, field, status=status, content=raw, headers=headers)


def test_json_sent_as_text_plain_is_refused(client: httpx.Client, engine: Engine) -> None:
    raw = json.dumps(message("plain")).encode()
    refused(
        client, engine, "POST", "/api/messages", "body", content=raw, headers={"content-type": "text/plain"}
    )


def test_naive_time_is_taken_as_utc(client: httpx.Client) -> None:
    stored = client.post("/api/messages", json=message("naive", sent_at="2026-01-01T10:00:00"))
    assert stored.status_code == 201, stored.text
    assert stored.json()["sent_at"] == "2026-01-01T10:00:00Z"


def test_text_limit_is_inclusive(client: httpx.Client) -> None:
    exact = client.post("/api/messages", json=message("exact", text="é" * (8 * 1024)))
    assert exact.status_code == 201, exact.text


def test_text_limit_is_configurable(small: httpx.Client, engine: Engine) -> None:
    refused(small, engine, "POST", "/api/messages", "text", json=message("s1", text="x" * (SMALL_TEXT + 1)))
    assert small.post("/api/messages", json=message("s1", text="x" * SMALL_TEXT)).status_code == 201


def test_batch_over_1000_is_refused(client: httpx.Client, engine: Engine) -> None:
    batch = {"messages": [message(f"big-{i}") for i in range(1001)]}
    refused(client, engine, "POST", "/api/messages/batch", "messages", json=batch)


def test_batch_over_configured_max_is_refused(small: httpx.Client, engine: Engine) -> None:
    batch = {"messages": [message(f"small-{i}") for i in range(SMALL_BATCH + 1)]}
    refused(small, engine, "POST", "/api/messages/batch", "messages", json=batch)
    batch["messages"] = batch["messages"][:SMALL_BATCH]
    assert small.post("/api/messages/batch", json=batch).status_code == 201


def test_body_larger_than_any_valid_batch_is_refused(small: httpx.Client, engine: Engine) -> None:
    """The limit follows the settings: 10 texts of 100 bytes cannot take 1 MB, even escaped."""
    batch = {"messages": [message(f"huge-{i}", text="x" * 100) for i in range(10)], "pad": "x" * 1_000_000}
    refused(small, engine, "POST", "/api/messages/batch", "body", status=413, json=batch)


def test_streamed_body_larger_than_any_valid_batch_is_refused(small: httpx.Client, engine: Engine) -> None:
    """Without a Content-Length (chunked), the limit holds while the body arrives."""
    chunks = [b'{"messages": [], "pad": "', *[b"x" * 65536] * 16, b'"}']
    refused(small, engine, "POST", "/api/messages/batch", "body", status=413, content=iter(chunks),
            headers={"content-type": "application/json"})  # fmt: skip


def test_batch_of_1000_is_accepted(client: httpx.Client) -> None:
    batch = {"messages": [message(f"full-{i}") for i in range(1000)]}
    response = client.post("/api/messages/batch", json=batch)
    assert response.status_code == 201, response.text
    assert response.json()["created"] == 1000


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"messages": []}, "messages"),
        ({}, "messages"),
        ({"messages": None}, "messages"),
        ({"messages": message("x")}, "messages"),
        ({"messages": [message("x")], "extra": 1}, "extra"),
    ],
    ids=["empty", "missing", "null", "object-not-list", "unknown-field"],
)
def test_bad_batch_shape_is_refused(
    client: httpx.Client, engine: Engine, body: dict[str, Any], field: str
) -> None:
    refused(client, engine, "POST", "/api/messages/batch", field, json=body)


BAD_TASKS: list[tuple[str, dict[str, Any], str]] = [
    ("title-empty", {"title": ""}, "title"),
    ("title-blank", {"title": "   "}, "title"),
    ("title-missing", {"kind": "bug"}, "title"),
    ("title-null", {"title": None}, "title"),
    ("title-too-long", {"title": "t" * 201}, "title"),
    ("title-nul", {"title": "a\x00b"}, "title"),
    ("description-nul", {"title": "t", "description": "a\x00b"}, "description"),
    ("assignee-nul", {"title": "t", "assignee": "a\x00b"}, "assignee"),
    ("kind-bad-enum", {"title": "t", "kind": "epic"}, "kind"),
    ("priority-bad-enum", {"title": "t", "priority": "urgent"}, "priority"),
    ("message-ids-not-ints", {"title": "t", "message_ids": ["x"]}, "message_ids.0"),
    ("message-ids-unknown", {"title": "t", "message_ids": [987654321]}, "message_ids"),
    ("message-ids-huge", {"title": "t", "message_ids": [HUGE_ID]}, "message_ids.0"),
    ("message-ids-negative", {"title": "t", "message_ids": [-1]}, "message_ids.0"),
    ("unknown-field", {"title": "t", "status": "done"}, "status"),
]


@pytest.mark.parametrize(("body", "field"), [c[1:] for c in BAD_TASKS], ids=[c[0] for c in BAD_TASKS])
def test_bad_task_is_refused(client: httpx.Client, engine: Engine, body: dict[str, Any], field: str) -> None:
    refused(client, engine, "POST", "/api/tasks", field, json=body)


def test_unknown_message_ids_among_known_ones_store_nothing(
    client: httpx.Client, engine: Engine, task: dict[str, Any]
) -> None:
    body = {"title": "t", "message_ids": [*task["message_ids"], 987654321]}
    detail = refused(client, engine, "POST", "/api/tasks", "message_ids", json=body)["detail"]
    assert "987654321" in detail[0]["message"]


BAD_PATCHES: list[tuple[str, dict[str, Any], str]] = [
    ("status-bad-enum", {"status": "closed"}, "status"),
    ("kind-bad-enum", {"kind": "epic"}, "kind"),
    ("priority-bad-enum", {"priority": "urgent"}, "priority"),
    ("status-null", {"status": None}, "status"),
    ("kind-null", {"kind": None}, "kind"),
    ("priority-null", {"priority": None}, "priority"),
    ("title-null", {"title": None}, "title"),
    ("title-empty", {"title": " "}, "title"),
    ("title-nul", {"title": "a\x00"}, "title"),
    ("expected-version-text", {"status": "done", "expected_version": "new"}, "expected_version"),
    ("unknown-field", {"description": "x"}, "description"),
]


@pytest.mark.parametrize(("body", "field"), [c[1:] for c in BAD_PATCHES], ids=[c[0] for c in BAD_PATCHES])
def test_bad_patch_is_refused(
    client: httpx.Client, engine: Engine, task: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    refused(client, engine, "PATCH", f"/api/tasks/{task['id']}", field, json=body)
    assert client.get(f"/api/tasks/{task['id']}").json()["version"] == task["version"]


def test_stale_expected_version_is_a_conflict(
    client: httpx.Client, engine: Engine, task: dict[str, Any]
) -> None:
    path = f"/api/tasks/{task['id']}"
    body = {"status": "done", "expected_version": task["version"] + 1}
    refused(client, engine, "PATCH", path, "expected_version", status=409, json=body)
    current = client.get(path).json()
    assert (current["status"], current["version"]) == (task["status"], task["version"])


@pytest.mark.parametrize("method", ["GET", "PATCH"])
def test_unknown_task_is_404(client: httpx.Client, engine: Engine, method: str) -> None:
    kw = {"json": {"status": "done"}} if method == "PATCH" else {}
    refused(client, engine, method, "/api/tasks/987654321", "task_id", status=404, **kw)


def test_unknown_message_is_404(client: httpx.Client, engine: Engine) -> None:
    refused(client, engine, "GET", "/api/messages/987654321", "message_id", status=404)


@pytest.mark.parametrize("row_id", [str(HUGE_ID), "0", "-1", "abc", "1.5"])
@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("GET", "/api/tasks/", "task_id"),
        ("PATCH", "/api/tasks/", "task_id"),
        ("GET", "/api/messages/", "message_id"),
    ],
)
def test_impossible_id_is_refused(
    client: httpx.Client, engine: Engine, method: str, path: str, field: str, row_id: str
) -> None:
    kw: dict[str, Any] = {"json": {"status": "done"}} if method == "PATCH" else {}
    refused(client, engine, method, path + row_id, field, **kw)


BAD_QUERIES: list[tuple[str, str, dict[str, Any], str]] = [
    ("tasks-status", "/api/tasks", {"status": "closed"}, "status.0"),
    ("tasks-kind", "/api/tasks", {"kind": "epic"}, "kind.0"),
    ("tasks-priority", "/api/tasks", {"priority": "urgent"}, "priority.0"),
    ("tasks-sort", "/api/tasks", {"sort": "random"}, "sort"),
    ("tasks-limit-0", "/api/tasks", {"limit": 0}, "limit"),
    ("tasks-limit-big", "/api/tasks", {"limit": 100_000}, "limit"),
    ("tasks-offset-negative", "/api/tasks", {"offset": -1}, "offset"),
    ("tasks-offset-huge", "/api/tasks", {"offset": HUGE_ID}, "offset"),
    ("tasks-chat-nul", "/api/tasks", {"chat_id": "a\x00"}, "chat_id"),
    ("tasks-search-nul", "/api/tasks", {"search": "a\x00"}, "search"),
    ("tasks-assignee-nul", "/api/tasks", {"assignee": "a\x00"}, "assignee"),
    ("messages-status", "/api/messages", {"status": "lost"}, "status"),
    ("messages-limit", "/api/messages", {"limit": "many"}, "limit"),
    ("messages-offset-huge", "/api/messages", {"offset": HUGE_ID}, "offset"),
    ("messages-thread-huge", "/api/messages", {"thread_of": HUGE_ID}, "thread_of"),
    ("messages-chat-nul", "/api/messages", {"chat_id": "a\x00"}, "chat_id"),
    ("messages-search-nul", "/api/messages", {"search": "a\x00"}, "search"),
]


@pytest.mark.parametrize(
    ("path", "params", "field"), [c[1:] for c in BAD_QUERIES], ids=[c[0] for c in BAD_QUERIES]
)
def test_bad_query_is_refused(
    client: httpx.Client, engine: Engine, path: str, params: dict[str, Any], field: str
) -> None:
    refused(client, engine, "GET", path, field, params=params)


@pytest.mark.parametrize("since", ["abc", "-1", str(HUGE_ID), "1.5"])
async def test_bad_since_refuses_the_websocket(api_url: str, since: str) -> None:
    url = api_url.replace("http://", "ws://") + f"/ws?since={since}"
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url, additional_headers=AUTH, open_timeout=30):
            pass
    assert refused.value.response.status_code == 403
