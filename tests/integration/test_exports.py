"""Exports through core against a real webhook receiver on loopback and real PostgreSQL:
signed versioned JSON, the replay window, retries on 500 / 429 / timeouts, a 4xx failed with
its reason and retried after a fix, merged tasks, secrets sealed at rest, the CLI."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, text
from sqlmodel import Session
from typer.testing import CliRunner

from core import events
from core.config import Settings
from core.conversations import progress
from core.db import session_scope
from core.exports import targets
from core.exports.delivery import Courier, claim_due_exports, deliver
from core.exports.document import SCHEMA
from core.exports.plan import on_task_change, on_task_events, request_export
from core.exports.vault import vault
from core.exports.webhook import signature, verify
from core.messages.ingest import ingest
from core.models import ChangeOrigin, ExportTarget, LabelOrigin, Task
from core.schemas import MessageCreate, TaskCreate
from core.triage.commands import accept_task, create_task, merge_task
from evals.webhook_receiver import Answer, Receiver, running
from services.cli import app

SECRET = "whsec-0123456789"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running(Receiver(SECRET)) as r:
        yield r


@pytest.fixture(autouse=True)
def no_targets(engine: Engine) -> None:
    """Each test starts with no target (the module shares its database)."""
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM export_targets"))


@pytest.fixture
def fast(settings: Settings) -> Settings:
    return settings.model_copy(update={"export_timeout": 0.5, "export_retry_base": 0.01, "export_lease": 5})


def add_webhook(engine: Engine, settings: Settings, name: str, url: str, **extra: Any) -> None:
    with session_scope(engine) as session:
        row = ExportTarget(name=name, type="webhook", url=url, **extra)
        targets.add_target(session, row, vault(settings), SecretStr(SECRET))


def new_task(engine: Engine, chat: str = "team", title: str = "checkout fails") -> int:
    """A task from a two-message conversation (a report and a reply)."""
    items = [
        MessageCreate(source="api", chat_id=chat, external_id=f"{title}-1", text=title, author="Olena"),
        MessageCreate(source="api", chat_id=chat, external_id=f"{title}-2", text="since the deploy",
                      author="Dmytro", reply_to_external_id=f"{title}-1"),
    ]  # fmt: skip
    with session_scope(engine) as session:
        stored, _ = ingest(session, items)
        ids = [r.message.id or 0 for r in stored]
        task, _ = create_task(session, TaskCreate(title=title, kind="bug", priority="high", message_ids=ids))
        task.chat_id = chat
        return task.id or 0


def accept(engine: Engine, task_id: int) -> list[dict[str, Any]]:
    with session_scope(engine) as session:
        return accept_task(session, task_id, origin=LabelOrigin.api)[1]


def export_row(engine: Engine, task_id: int, target: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT * FROM task_exports WHERE task_id = :t AND target = :n"), {"t": task_id, "n": target}
        ).one()


async def drain(engine: Engine, settings: Settings, ids: list[int], limit: float = 30) -> list[str]:
    """Deliver the exports, then whatever the sweep finds due, until none is pending."""
    published: list[dict[str, Any]] = []

    async def publish(new: list[dict[str, Any]]) -> None:
        published.extend(new)

    outcomes = []
    async with httpx.AsyncClient(timeout=settings.export_timeout) as client:
        courier = Courier(engine, settings, vault(settings), client, publish)
        deadline = time.monotonic() + limit
        while ids and time.monotonic() < deadline:
            outcomes += [await deliver(i, courier) for i in ids]
            ids = await asyncio.to_thread(_due, engine, settings)
            while not ids and _pending(engine) and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
                ids = await asyncio.to_thread(_due, engine, settings)
    return outcomes


def _due(engine: Engine, settings: Settings) -> list[int]:
    with session_scope(engine) as session:
        return claim_due_exports(session, settings.export_lease)


def _pending(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.execute(text("SELECT count(*) FROM task_exports WHERE status = 'pending'")).scalar_one()
        )


def queued(recorded: list[dict[str, Any]]) -> list[int]:
    return [e["payload"]["export_id"] for e in recorded if e["type"] == "export.queued"]


def test_accept_exports_a_signed_versioned_document(
    engine: Engine, fast: Settings, receiver: Receiver
) -> None:
    add_webhook(engine, fast, "hook-accept", receiver.url)
    task_id = new_task(engine, title="payment page blank")
    ids = queued(accept(engine, task_id))
    assert len(ids) == 1, "accepting plans one export per target"
    assert asyncio.run(drain(engine, fast, ids)) == ["exported"]
    [request] = [r for r in receiver.requests if json.loads(r["body"])["task"]["id"] == task_id]
    headers, body = request["headers"], request["body"]
    assert request["signed"] and headers["X-Tracker-Signature"].startswith("sha256=")
    doc = json.loads(body)
    assert (doc["schema"], doc["event"], doc["task"]["status"]) == (SCHEMA, "task.exported", "accepted")
    assert [m["author"] for m in doc["conversation"]] == ["Olena", "Dmytro"]
    assert doc["conversation"][1]["reply_to"] == doc["conversation"][0]["message_id"]
    assert doc["task"]["link"].endswith(f"/task?task={task_id}") and doc["chat"]["id"] == "team"
    row = export_row(engine, task_id, "hook-accept")
    assert (row.status, row.external_id, row.attempts) == ("exported", doc["delivery"], 1)
    assert queued(accept(engine, task_id)) == [], "accepting again exports nothing twice"


def test_signature_and_replay_window() -> None:
    body, stamp = b'{"a": 1}', str(int(time.time()))
    signed = signature(SECRET, stamp, body)
    assert verify(SECRET, stamp, body, signed)
    assert not verify("other", stamp, body, signed), "another secret"
    assert not verify(SECRET, stamp, body + b" ", signed), "another body"
    assert not verify(SECRET, stamp, body, signed, now=time.time() + 301), "replayed after the window"
    assert not verify(SECRET, "yesterday", body, signed)


def test_retries_on_500_429_and_timeout_then_one_delivery(
    engine: Engine, fast: Settings, receiver: Receiver
) -> None:
    add_webhook(engine, fast, "hook-retry", receiver.url)
    task_id = new_task(engine, title="search times out")
    receiver.script = [Answer(500), Answer(429, {"Retry-After": "1"}), Answer(200, stall=1.5), Answer(200)]
    started = time.monotonic()
    outcomes = asyncio.run(drain(engine, fast, queued(accept(engine, task_id))))
    assert outcomes[-1] == "exported" and outcomes.count("pending") == 3
    assert time.monotonic() - started >= 1.0, "Retry-After: 1 was honoured"
    mine = [r for r in receiver.requests if json.loads(r["body"])["task"]["id"] == task_id]
    assert len(mine) == 4 and len({r["headers"]["X-Tracker-Delivery"] for r in mine}) == 1
    row = export_row(engine, task_id, "hook-retry")
    assert (row.status, row.attempts, row.last_error) == ("exported", 4, None)


def test_a_4xx_fails_with_the_reason_and_a_person_retries(
    engine: Engine, fast: Settings, receiver: Receiver
) -> None:
    add_webhook(engine, fast, "hook-4xx", receiver.url)
    task_id = new_task(engine, title="exports are empty")
    receiver.script = [Answer(422)]
    assert asyncio.run(drain(engine, fast, queued(accept(engine, task_id)))) == ["failed"]
    row = export_row(engine, task_id, "hook-4xx")
    assert row.status == "failed" and "422" in row.last_error and SECRET not in row.last_error
    with session_scope(engine) as session:
        again = queued(request_export(session, session.get(Task, task_id), "hook-4xx"))  # type: ignore[arg-type]
    assert asyncio.run(drain(engine, fast, again)) == ["exported"]
    assert export_row(engine, task_id, "hook-4xx").status == "exported"


def test_merged_before_export_and_removed_target_fail_clearly(
    engine: Engine, fast: Settings, receiver: Receiver
) -> None:
    add_webhook(engine, fast, "hook-merge", receiver.url)
    add_webhook(engine, fast, "hook-gone", receiver.url)
    task_id, other = new_task(engine, title="login loops"), new_task(engine, title="login loops again")
    ids = queued(accept(engine, task_id)) + queued(accept(engine, other))
    with session_scope(engine) as session:
        merge_task(session, task_id, other)
        targets.remove_target(session, "hook-gone")
    assert sorted(asyncio.run(drain(engine, fast, ids))) == ["exported", "failed", "failed", "failed"]
    sent = {json.loads(r["body"])["task"]["id"] for r in receiver.requests}
    assert sent == {other}, "the merged task was not sent"
    assert "merged into task" in export_row(engine, task_id, "hook-merge").last_error
    assert "no longer exists" in export_row(engine, other, "hook-gone").last_error
    assert export_row(engine, other, "hook-merge").status == "exported"


def test_an_export_waiting_when_its_task_is_merged_follows_the_survivor(
    engine: Engine, fast: Settings, receiver: Receiver
) -> None:
    add_webhook(engine, fast, "hook-follow", receiver.url)
    absorbed, survivor = new_task(engine, title="sso loops"), new_task(engine, title="sso loops on safari")
    waiting = queued(accept(engine, absorbed))
    with session_scope(engine) as session:
        _, recorded = merge_task(session, absorbed, survivor)
    assert queued(recorded) == waiting, "the same export, now the survivor's"
    assert asyncio.run(drain(engine, fast, waiting)) == ["exported"]
    sent = [json.loads(r["body"])["task"]["id"] for r in receiver.requests]
    assert sent == [survivor], "sent once, as the survivor"
    assert export_row(engine, survivor, "hook-follow").status == "exported"


def test_each_export_change_is_a_task_updated_event_with_the_exports(
    engine: Engine, fast: Settings, receiver: Receiver
) -> None:
    add_webhook(engine, fast, "hook-events", receiver.url)
    task_id = new_task(engine, title="events carry exports")
    [export_id] = queued(accept(engine, task_id))
    published: list[dict[str, Any]] = []

    async def deliver_once() -> str:
        async def publish(new: list[dict[str, Any]]) -> None:
            published.extend(new)

        async with httpx.AsyncClient(timeout=fast.export_timeout) as client:
            return await deliver(export_id, Courier(engine, fast, vault(fast), client, publish))

    assert asyncio.run(deliver_once()) == "exported"
    [event] = [e for e in published if e["type"] == "task.updated"]
    assert event["payload"]["id"] == task_id
    [export] = event["payload"]["exports"]
    assert (export["target"], export["status"], export["attempts"]) == ("hook-events", "exported", 1)


def test_triggers_create_critical_and_chat(engine: Engine, fast: Settings, receiver: Receiver) -> None:
    add_webhook(engine, fast, "hook-new", receiver.url, triggers=["create"], chats=["support"])
    add_webhook(engine, fast, "hook-critical", receiver.url, triggers=["critical"])
    with session_scope(engine) as session:
        for chat, priority, expected in [("support", "low", {"hook-new"}), ("dev", "low", set()),
                                         ("dev", "critical", {"hook-critical"})]:  # fmt: skip
            task = Task(title="t", chat_id=chat, priority=priority)
            session.add(task)
            session.flush()
            assert _targets_of(on_task_change(session, task, created=True)) == expected, (chat, priority)
            assert _targets_of(on_task_change(session, task, accepted=True)) == set(), "planned once"


def _targets_of(recorded: list[dict[str, Any]]) -> set[str]:
    return {e["payload"]["target"] for e in recorded if e["type"] == "export.queued"}


def test_secrets_sealed_at_rest_and_never_shown(engine: Engine, settings: Settings) -> None:
    add_webhook(engine, settings, "hook-sealed", "https://example.invalid/hook")
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT secret FROM export_targets WHERE name = 'hook-sealed'")
        ).scalar_one()
    assert SECRET not in stored
    with Session(engine) as session:
        row = targets.get_target(session, "hook-sealed")
        assert row is not None and SECRET not in json.dumps(targets.public(row))
        assert targets.config_of(row, vault(settings)).secret.get_secret_value() == SECRET  # type: ignore[union-attr]


def cli_env(settings: Settings) -> dict[str, str]:
    return {"TRACKER_DATABASE_URL": settings.database_url or "", "TRACKER_DATA_DIR": str(settings.data_dir),
            "TRACKER_NATS_URL": settings.nats_url or ""}  # fmt: skip


def test_cli_add_list_test_remove(engine: Engine, settings: Settings, receiver: Receiver) -> None:
    runner, env = CliRunner(), cli_env(settings)
    add = [
        "exports",
        "add",
        "cli-hook",
        "--type",
        "webhook",
        "--url",
        receiver.url,
        "--secret",
        SECRET,
        "--on",
        "create",
    ]
    assert runner.invoke(app, add, env=env).exit_code == 0
    again = runner.invoke(app, add, env=env)
    assert again.exit_code == 2 and "--name: a target named 'cli-hook' exists already" in again.output
    bad = runner.invoke(app, ["exports", "add", "x", "--type", "trello", "--url", receiver.url], env=env)
    assert bad.exit_code == 2 and "--type: 'trello' is not one of" in bad.output
    listed = runner.invoke(app, ["exports", "list"], env=env)
    assert "cli-hook" in listed.output and SECRET not in listed.output
    tested = runner.invoke(app, ["exports", "test", "cli-hook"], env=env)
    assert tested.exit_code == 0 and "works" in tested.output and receiver.requests[-1]["signed"]
    receiver.script = [Answer(401)]
    refused = runner.invoke(app, ["exports", "test", "cli-hook"], env=env)
    assert refused.exit_code == 1 and "401" in refused.output
    assert runner.invoke(app, ["exports", "remove", "cli-hook"], env=env).exit_code == 0
    assert runner.invoke(app, ["exports", "remove", "cli-hook"], env=env).exit_code == 1


def test_a_merged_task_s_own_issue_is_closed_as_a_duplicate_of_the_survivor(
    engine: Engine, fast: Settings, receiver: Receiver
) -> None:
    add_webhook(engine, fast, "hook-dupe", receiver.url)
    absorbed, survivor = new_task(engine, title="cart empties"), new_task(engine, title="cart empties on iOS")
    asyncio.run(drain(engine, fast, queued(accept(engine, absorbed)) + queued(accept(engine, survivor))))
    assert (
        export_row(engine, absorbed, "hook-dupe").status
        == export_row(engine, survivor, "hook-dupe").status
        == "exported"
    )
    seen = len(receiver.requests)
    with session_scope(engine) as session:
        _, recorded = merge_task(session, absorbed, survivor)
    asyncio.run(drain(engine, fast, queued(recorded)))
    updates = [json.loads(r["body"])["task"] for r in receiver.requests[seen:]]
    [closed] = [u for u in updates if u["id"] == absorbed]
    assert (closed["status"], closed["resolution"], closed["merged_into"]["id"]) == (
        "rejected",
        "duplicate",
        survivor,
    )
    assert survivor in {u["id"] for u in updates}, "the survivor's issue is updated too"
    assert export_row(engine, absorbed, "hook-dupe").status == "exported"
    with session_scope(engine) as session:
        assert session.get(Task, absorbed).status == "accepted", "only its issue is closed"  # type: ignore[union-attr]


def test_an_export_waiting_when_the_chat_merges_its_task_follows_the_survivor(
    engine: Engine, fast: Settings, receiver: Receiver
) -> None:
    """ "так, те саме, що вчора": the pipeline's events name the task the chat merged."""
    add_webhook(engine, fast, "hook-chat-dupe", receiver.url)
    absorbed, survivor = new_task(engine, title="np branches empty"), new_task(engine, title="np branches")
    waiting = queued(accept(engine, absorbed))
    with session_scope(engine) as session:
        task = session.get(Task, absorbed)
        assert task is not None
        progress.apply(session, task, {"merged_into_id": survivor}, origin=ChangeOrigin.chat)
        recorded = on_task_events(session, [(events.TASK_UPDATED, {"id": absorbed})])
    assert queued(recorded) == waiting, "the same export, now the survivor's"
    assert asyncio.run(drain(engine, fast, waiting)) == ["exported"]
    assert [json.loads(r["body"])["task"]["id"] for r in receiver.requests] == [survivor]


def test_a_batch_that_changes_no_task_reads_no_targets(
    engine: Engine, fast: Settings, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pipeline asks after every batch; one that only classified messages costs no query."""
    add_webhook(engine, fast, "hook-quiet", receiver.url)
    sent: list[str] = []
    execute = psycopg.Cursor.execute

    def record(cursor: psycopg.Cursor[Any], statement: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(str(statement))  # what SQLAlchemy sends and what goes on the driver
        return execute(cursor, statement, *args, **kwargs)

    with session_scope(engine) as session:
        monkeypatch.setattr(psycopg.Cursor, "execute", record)
        assert on_task_events(session, [(events.MESSAGE_CLASSIFIED, {"id": 1})]) == []
        quiet = list(sent)
        task_id = new_task(engine, title="quiet chat")
        on_task_events(session, [(events.TASK_UPDATED, {"id": task_id})])
        monkeypatch.undo()
    assert quiet == []
    assert any("export_targets" in s for s in sent), "a changed task does read them"
