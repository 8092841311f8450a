"""WebSocket /ws on real API processes: typed events with increasing seq, catch-up with
?since=SEQ, and two API processes that both deliver every event, wherever it happened."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text
from websockets.asyncio.client import ClientConnection, connect

from core.config import Settings
from tests.support.api import AUTH, api_settings, message
from tests.support.processes import api_process

Event = dict[str, Any]
WAIT = 30.0
"""Seconds to wait for events that must come (a bound for a hung test, not a figure)."""


@pytest.fixture(scope="module")
def module_settings(database_url: str, nats_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return api_settings(tmp_path_factory.mktemp("ws"), database_url, nats_url, "wsevents")


@pytest.fixture(scope="module")
def api_urls(module_settings: Settings) -> Iterator[tuple[str, str]]:
    """Two API processes on the same database and event subject."""
    with api_process(module_settings) as first, api_process(module_settings) as second:
        yield first, second


@pytest.fixture(scope="module")
def api_url(api_urls: tuple[str, str]) -> str:
    return api_urls[0]


@contextlib.asynccontextmanager
async def events_socket(api_url: str, since: int | None = None) -> AsyncIterator[ClientConnection]:
    query = f"?since={since}" if since is not None else ""
    url = api_url.replace("http://", "ws://") + "/ws" + query
    async with connect(url, additional_headers=AUTH, open_timeout=WAIT, max_size=None) as ws:
        yield ws


async def receive_until(ws: ClientConnection, done: Callable[[list[Event]], bool]) -> list[Event]:
    """Events in arrival order until `done(events)` holds."""
    received: list[Event] = []

    async def loop() -> None:
        while not done(received):
            received.append(json.loads(await ws.recv()))

    try:
        await asyncio.wait_for(loop(), WAIT)
    except TimeoutError:
        raise AssertionError(f"gave up after {len(received)} events: {received[-3:]}") from None
    return received


def has_message(message_id: int) -> Callable[[list[Event]], bool]:
    return lambda events: any(
        e["type"] == "message.created" and e["payload"]["id"] == message_id for e in events
    )


def stored_events(engine: Engine, after: int) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT seq, type FROM events WHERE seq > :s ORDER BY seq"), {"s": after})
        return [(r.seq, r.type) for r in rows]


def last_seq(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT coalesce(max(seq), 0) FROM events")).scalar_one())


def assert_increasing(events: list[Event]) -> None:
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(set(seqs)), seqs


async def test_events_have_type_seq_and_payload(api_url: str) -> None:
    async with events_socket(api_url) as ws, httpx.AsyncClient(base_url=api_url, headers=AUTH) as http:
        created = (await http.post("/api/messages", json=message("ws-1"))).json()
        task = (
            await http.post("/api/tasks", json={"title": "Fix it", "message_ids": [created["id"]]})
        ).json()
        updated = (await http.patch(f"/api/tasks/{task['id']}", json={"status": "accepted"})).json()
        events = await receive_until(ws, lambda ev: any(e["type"] == "task.updated" for e in ev))
    assert [e["type"] for e in events] == ["message.created", "task.created", "task.updated"]
    assert_increasing(events)
    assert all(isinstance(e["seq"], int) and isinstance(e["payload"], dict) for e in events)
    message_event, task_event, update_event = (e["payload"] for e in events)
    assert message_event["id"] == created["id"] and message_event["text"] == created["text"]
    assert message_event["status"] == "pending"
    assert task_event["id"] == task["id"] and task_event["message_ids"] == [created["id"]]
    assert update_event["id"] == task["id"] and update_event["status"] == "accepted"
    assert update_event["version"] == updated["version"] == task["version"] + 1


async def test_batch_sends_one_event_per_new_message(api_url: str, engine: Engine) -> None:
    batch = {"messages": [message(f"ws-batch-{i}") for i in range(1200 // 2)]}
    async with events_socket(api_url) as ws, httpx.AsyncClient(base_url=api_url, headers=AUTH) as http:
        stored = (await http.post("/api/messages/batch", json=batch, timeout=WAIT)).json()
        ids = {item["id"] for item in stored["items"]}
        again = (await http.post("/api/messages/batch", json=batch, timeout=WAIT)).json()
        marker = (await http.post("/api/messages", json=message("ws-batch-end"))).json()
        events = await receive_until(ws, has_message(marker["id"]))
    assert again["created"] == 0
    assert [e["payload"]["id"] for e in events[:-1]] == sorted(ids)
    assert_increasing(events)


async def test_reconnect_with_since_receives_what_was_missed(api_url: str, engine: Engine) -> None:
    async with httpx.AsyncClient(base_url=api_url, headers=AUTH) as http:
        async with events_socket(api_url) as ws:
            seen = (await http.post("/api/messages", json=message("since-0"))).json()
            before = await receive_until(ws, has_message(seen["id"]))
        since = before[-1]["seq"]
        missed = [(await http.post("/api/messages", json=message(f"since-{i}"))).json() for i in range(1, 6)]
        task = (await http.post("/api/tasks", json={"title": "while away"})).json()
        async with events_socket(api_url, since=since) as ws:
            caught_up = await receive_until(ws, lambda ev: any(e["type"] == "task.created" for e in ev))
            live = (await http.post("/api/messages", json=message("since-live"))).json()
            after = await receive_until(ws, has_message(live["id"]))
    assert [(e["seq"], e["type"]) for e in caught_up] == stored_events(engine, since)[: len(caught_up)]
    assert [e["payload"]["id"] for e in caught_up[:-1]] == [m["id"] for m in missed]
    assert caught_up[-1]["payload"]["id"] == task["id"]
    assert [e["payload"]["id"] for e in after] == [live["id"]]
    assert_increasing(caught_up + after)


async def test_since_zero_replays_everything_in_order(api_url: str, engine: Engine) -> None:
    expected = stored_events(engine, 0)
    assert len(expected) > 10
    async with events_socket(api_url, since=0) as ws:
        replayed = await receive_until(ws, lambda ev: len(ev) >= len(expected))
    assert [(e["seq"], e["type"]) for e in replayed] == expected


async def test_since_beyond_the_end_gets_only_new_events(api_url: str, engine: Engine) -> None:
    async with events_socket(api_url, since=last_seq(engine) + 1000) as ws:
        async with httpx.AsyncClient(base_url=api_url, headers=AUTH) as http:
            live = (await http.post("/api/messages", json=message("beyond"))).json()
        events = await receive_until(ws, has_message(live["id"]))
    assert [e["payload"]["id"] for e in events] == [live["id"]]


async def test_two_api_processes_each_deliver_every_event(api_urls: tuple[str, str], engine: Engine) -> None:
    """Writes go to both processes at once; each client gets all events, in seq order."""
    start = last_seq(engine)
    async with events_socket(api_urls[0]) as ws_a, events_socket(api_urls[1]) as ws_b:
        clients = [httpx.AsyncClient(base_url=url, headers=AUTH, timeout=WAIT) for url in api_urls]

        async def writer(n: int) -> None:
            http = clients[n % 2]
            stored = (await http.post("/api/messages", json=message(f"two-{n}"))).json()
            if n % 5 == 0:
                task = (
                    await http.post("/api/tasks", json={"title": f"t{n}", "message_ids": [stored["id"]]})
                ).json()
                await clients[(n + 1) % 2].patch(f"/api/tasks/{task['id']}", json={"priority": "high"})

        await asyncio.gather(*(writer(n) for n in range(60)))
        marker = (await clients[0].post("/api/messages", json=message("two-end"))).json()
        got_a = await receive_until(ws_a, has_message(marker["id"]))
        got_b = await receive_until(ws_b, has_message(marker["id"]))
        for http in clients:
            await http.aclose()
    expected = stored_events(engine, start)
    assert len(expected) == 61 + 12 * 2
    for got in (got_a, got_b):
        assert [(e["seq"], e["type"]) for e in got] == expected
