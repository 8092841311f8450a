"""Exports to a real Redmine (Debian's package, started here on loopback with SQLite):
create with the conversation and mappings, update, close in Redmine -> task done by polling,
a crash between Redmine's create and our commit -> still one issue, refusals stored."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import Session

from core.config import Settings
from core.db import session_scope
from core.exports import targets
from core.exports.delivery import Courier, claim, push
from core.exports.inbound import poll_redmine
from core.exports.target import ExportError
from core.exports.vault import vault
from core.models import ExportTarget, LabelOrigin, Task
from core.triage.commands import accept_task, change_task
from evals.redmine_server import INSTALL, RunningRedmine, available, killing_proxy, redmine_server
from tests.integration.test_exports import accept, drain, export_row, new_task, no_targets, queued
from tests.support.processes import (
    STARTUP_SECONDS,
    spawn_worker,
    stop_process,
    wait_until,
    worker_process,
    worker_ready,
)

__all__ = ["no_targets"]  # each test starts with no target (autouse)
pytestmark = pytest.mark.skipif(not available(), reason=f"Redmine is not installed: {INSTALL}")


@pytest.fixture(scope="module")
def redmine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRedmine]:
    with redmine_server(tmp_path_factory.mktemp("redmine")) as running:
        yield running


@pytest.fixture
def fast(settings: Settings) -> Settings:
    return settings.model_copy(update={"export_timeout": 30, "export_retry_base": 0.05, "export_lease": 2})


def add_redmine(engine: Engine, settings: Settings, redmine: RunningRedmine, name: str, **extra: Any) -> None:
    fields = {"project": redmine.project, **extra}
    with session_scope(engine) as session:
        row = ExportTarget(name=name, type="redmine", url=redmine.url, **fields)
        targets.add_target(session, row, vault(settings), SecretStr(redmine.key))


def marked(redmine: RunningRedmine, engine: Engine, task_id: int, target: str) -> list[dict[str, Any]]:
    marker = export_row(engine, task_id, target).marker
    return redmine.issues(**{"f[]": "description", "op[description]": "~", "v[description][]": marker})


async def poll(engine: Engine, settings: Settings) -> int:
    async def publish(new: list[dict[str, Any]]) -> None:
        pass

    async with httpx.AsyncClient(timeout=settings.export_timeout) as client:
        return await poll_redmine(Courier(engine, settings, vault(settings), client, publish))


def test_create_update_close_in_redmine_makes_the_task_done(
    engine: Engine, fast: Settings, redmine: RunningRedmine
) -> None:
    add_redmine(engine, fast, redmine, "rm")
    task_id = new_task(engine, title="checkout returns 500")
    assert asyncio.run(drain(engine, fast, queued(accept(engine, task_id)))) == ["exported"]
    [issue] = marked(redmine, engine, task_id, "rm")
    assert (issue["subject"], issue["tracker"]["name"], issue["priority"]["name"]) == (
        "checkout returns 500",
        "Bug",
        "High",
    )
    assert "Olena" in issue["description"] and "(reply to #" in issue["description"]
    assert export_row(engine, task_id, "rm").url == f"{redmine.url}/issues/{issue['id']}"
    with session_scope(engine) as session:
        _, recorded = change_task(
            session,
            task_id,
            {"title": "checkout returns 502", "priority": "critical"},
            origin=LabelOrigin.api,
        )
    assert asyncio.run(drain(engine, fast, queued(recorded))) == ["exported"]
    [issue] = marked(redmine, engine, task_id, "rm")
    assert (issue["subject"], issue["priority"]["name"]) == ("checkout returns 502", "Immediate")
    assert asyncio.run(poll(engine, fast)) == 0, "our own update does not come back"
    with redmine.client() as c:
        c.put(f"/issues/{issue['id']}.json", json={"issue": {"status_id": 5}}).raise_for_status()
    assert asyncio.run(poll(engine, fast)) == 1
    with session_scope(engine) as session:
        assert session.get(Task, task_id).status == "done"  # type: ignore[union-attr]
    row = export_row(engine, task_id, "rm")
    assert row.status == "exported", "the change came from Redmine: nothing to send back"
    assert asyncio.run(poll(engine, fast)) == 0, "seen once"


def test_crash_between_create_and_commit_leaves_one_issue(
    engine: Engine, fast: Settings, redmine: RunningRedmine
) -> None:
    add_redmine(engine, fast, redmine, "rm-crash")
    task_id = new_task(engine, title="reports time out")
    [export_id] = queued(accept(engine, task_id))

    async def create_then_die() -> None:
        async with httpx.AsyncClient(timeout=30) as client:
            courier = Courier(engine, fast, vault(fast), client, publish=lambda _: asyncio.sleep(0))
            with session_scope(engine) as session:
                job = claim(session, export_id, courier)
            await push(job, client)  # type: ignore[arg-type]  # Redmine has it; our commit never comes

    asyncio.run(create_then_die())
    assert len(marked(redmine, engine, task_id, "rm-crash")) == 1
    assert export_row(engine, task_id, "rm-crash").status == "pending"
    outcomes = asyncio.run(drain(engine, fast, [export_id]))
    assert outcomes in (["busy", "exported"], ["exported"]), "left while leased, then found by its marker"
    assert len(marked(redmine, engine, task_id, "rm-crash")) == 1
    assert export_row(engine, task_id, "rm-crash").attempts == 2


def test_refusals_are_stored_with_redmines_reason(
    engine: Engine, fast: Settings, redmine: RunningRedmine
) -> None:
    add_redmine(engine, fast, redmine, "rm-project", project="no-such-project")
    add_redmine(engine, fast, redmine, "rm-assignee", options={"logins": {"ira": 999}})
    task_id = new_task(engine, title="wrong project")
    with session_scope(engine) as session:
        change_task(session, task_id, {"assignee": "ira"}, origin=LabelOrigin.api)
    outcomes = asyncio.run(drain(engine, fast, queued(accept(engine, task_id))))
    assert sorted(outcomes) == ["failed", "failed"]
    assert " 404 " in export_row(engine, task_id, "rm-project").last_error
    assert "422" in export_row(engine, task_id, "rm-assignee").last_error
    bad = targets.config_of(ExportTarget(name="bad", type="redmine", url=redmine.url, project="tracker",
                                         secret=vault(fast).seal(SecretStr("0" * 40))), vault(fast))  # fmt: skip
    with pytest.raises(ExportError, match="401"):
        asyncio.run(targets.check(bad, fast))
    with Session(engine) as session:
        wrong_project = targets.get_target(session, "rm-project")
        assert wrong_project is not None
        with pytest.raises(ExportError, match="404"):
            asyncio.run(targets.check(targets.config_of(wrong_project, vault(fast)), fast))


@pytest.mark.timeout(900)
def test_worker_killed_between_create_and_commit_leaves_one_issue(
    engine: Engine, settings: Settings, redmine: RunningRedmine
) -> None:
    worker = spawn_worker(settings, TRACKER_EXPORT_LEASE="3", TRACKER_EXPORT_TIMEOUT="60")
    with killing_proxy(redmine.url, lambda: worker.send_signal(signal.SIGKILL)) as proxy:
        with session_scope(engine) as session:
            row = ExportTarget(name="rm-kill", type="redmine", url=proxy, project=redmine.project)
            targets.add_target(session, row, vault(settings), SecretStr(redmine.key))
        try:
            wait_until(lambda: worker_ready(settings), timeout=STARTUP_SECONDS, what="worker pulling")
            task_id = new_task(engine, title="export killed midway")
            with session_scope(engine) as session:
                accept_task(session, task_id, origin=LabelOrigin.api)  # the sweep queues it
            assert worker.wait(timeout=120) == -signal.SIGKILL, "killed right after Redmine's create"
            assert export_row(engine, task_id, "rm-kill").status == "pending"
            assert len(marked(redmine, engine, task_id, "rm-kill")) == 1
        finally:
            stop_process(worker)
        with worker_process(settings, TRACKER_EXPORT_LEASE="3", TRACKER_EXPORT_TIMEOUT="60"):
            wait_until(lambda: export_row(engine, task_id, "rm-kill").status == "exported", timeout=STARTUP_SECONDS,
                       what="export finished by the next worker")  # fmt: skip
    assert len(marked(redmine, engine, task_id, "rm-kill")) == 1
    assert export_row(engine, task_id, "rm-kill").attempts >= 2, "the next worker found it by its marker"
