"""Conversations through a real API process: messages posted over HTTP group into one task,
GET /api/tasks/{id} shows the conversation with roles and the history with its evidence,
/ws announces every change the chat makes, and a message moves to a task of its own (split)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from websockets.asyncio.client import connect

from core.config import Settings
from core.models import Kind, Priority
from core.runtime.system import open_system
from core.triage.pipeline import classify_messages
from tests.support.api import AUTH, api_settings
from tests.support.conversations import Line, Verdicts
from tests.support.processes import api_process

WAIT = 30.0
LINES = [
    Line(
        "Kate",
        0,
        "Lviv customers can't choose any delivery slot today",
        kind=Kind.bug,
        priority=Priority.high,
    ),
    Line("Ihor", 2, "Дивлюсь. Може зони не налаштовані?", reply=0),
    Line("Olena", 4, "Це критично, замовлення зі Львова заблоковані", reply=0),
    Line("Ihor", 9, "Зона нового складу без розкладу, виправив ✅", reply=0),
]


@pytest.fixture(scope="module")
def module_settings(database_url: str, nats_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return api_settings(tmp_path_factory.mktemp("apiconv"), database_url, nats_url, "apiconv")


@pytest.fixture(scope="module")
def api_url(module_settings: Settings) -> Iterator[str]:
    with api_process(module_settings) as url:
        yield url


def body(index: int, line: Line) -> dict[str, Any]:
    return {
        "source": "apiconv", "chat_id": "lviv", "external_id": str(index), "text": line.text,
        "author": line.author, "author_id": line.author.lower(),
        "sent_at": f"2026-11-18T09:{line.minute:02.0f}:00+00:00",
        "reply_to_external_id": None if line.reply is None else str(line.reply),
    }  # fmt: skip


async def post_and_classify(http: httpx.AsyncClient, engine: Engine, settings: Settings) -> list[int]:
    """Each message over HTTP, then classified and announced as the worker does, one at a time."""
    ids = []
    verdicts = Verdicts({line.text: line for line in LINES})
    with open_system(settings, migrate=False) as system:
        services = await system.services()
        for index, line in enumerate(LINES):
            created = await http.post("/api/messages", json=body(index, line))
            ids.append(created.json()["id"])
            await classify_messages(
                [ids[-1]], engine=engine, settings=settings, classifier=verdicts, publish=services.publish
            )
        await services.close()
    return ids


async def test_posted_messages_form_one_task_shown_with_roles_history_and_live_updates(
    api_url: str, engine: Engine, module_settings: Settings
) -> None:
    ws_url = api_url.replace("http://", "ws://") + "/ws"
    async with (
        connect(ws_url, additional_headers=AUTH, open_timeout=WAIT) as ws,
        httpx.AsyncClient(base_url=api_url, headers=AUTH, timeout=WAIT) as http,
    ):
        ids = await post_and_classify(http, engine, module_settings)
        updates = await _task_events(ws, lambda ev: sum(e["type"] == "task.updated" for e in ev) >= 3)
        [task_id] = {e["payload"]["id"] for e in updates if e["type"].startswith("task.")}
        detail = (await http.get(f"/api/tasks/{task_id}")).json()
    assert [(m["message_id"], m["role"]) for m in detail["messages"]] == [
        (ids[0], "source"), (ids[1], "update"), (ids[2], "update"), (ids[3], "update"),
    ]  # fmt: skip
    assert [m["author"] for m in detail["messages"]] == ["Kate", "Ihor", "Olena", "Ihor"]
    assert (detail["status"], detail["assignee"], detail["priority"]) == ("done", "Ihor", "critical")
    evidence = {(h["field"], h["new"]): h["message_id"] for h in detail["history"]}
    assert evidence[("priority", "critical")] == ids[2] and evidence[("status", "done")] == ids[3]
    assert {h["origin"] for h in detail["history"]} == {"chat"}


async def test_a_message_moves_to_a_task_of_its_own_and_back(api_url: str) -> None:
    async with httpx.AsyncClient(base_url=api_url, headers=AUTH, timeout=WAIT) as http:
        [task] = (await http.get("/api/tasks", params={"chat_id": "lviv"})).json()["items"]
        moved_id = task["message_ids"][2]
        split = (await http.post(f"/api/tasks/{task['id']}/messages/{moved_id}/move", json={})).json()
        assert split["id"] != task["id"] and [m["message_id"] for m in split["messages"]] == [moved_id]
        left = (await http.get(f"/api/tasks/{task['id']}")).json()
        assert moved_id not in left["message_ids"]
        back = await http.post(
            f"/api/tasks/{split['id']}/messages/{moved_id}/move", json={"into_id": task["id"]}
        )
        assert back.status_code == 200 and moved_id in back.json()["message_ids"]
        wrong = await http.post(
            f"/api/tasks/{task['id']}/messages/{moved_id}/move", json={"into_id": task["id"]}
        )
        assert wrong.status_code == 422 and "into_id" in wrong.text
        merged = await http.post(f"/api/tasks/{split['id']}/merge", json={"into_id": task["id"]})
        assert merged.status_code == 200 and merged.json()["id"] == task["id"]


async def test_a_message_moves_into_a_task_that_already_holds_it(api_url: str) -> None:
    """Two manual tasks may share a message; moving it from one to the other leaves it in one."""
    async with httpx.AsyncClient(base_url=api_url, headers=AUTH, timeout=WAIT) as http:
        shared = (await http.post("/api/messages", json=body(100, LINES[0]) | {"chat_id": "kyiv"})).json()
        first, second = [
            (await http.post("/api/tasks", json={"title": title, "message_ids": [shared["id"]]})).json()
            for title in ("first", "second")
        ]
        moved = await http.post(
            f"/api/tasks/{first['id']}/messages/{shared['id']}/move", json={"into_id": second["id"]}
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["message_ids"] == [shared["id"]]
        assert (await http.get(f"/api/tasks/{first['id']}")).json()["message_ids"] == []


async def _task_events(ws: Any, done: Any) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []

    async def loop() -> None:
        while not done(received):
            event = json.loads(await ws.recv())
            if event["type"].startswith("task."):
                received.append(event)

    await asyncio.wait_for(loop(), WAIT)
    return received
