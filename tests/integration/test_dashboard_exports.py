"""Exports on the dashboard (AppTest, real PostgreSQL and NATS): the status, the link and the
tracker's refusal of each export on the task page and the triage card, "Export to ..." queuing
one, and the Tasks list filtered to the tasks exported to a target."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, text

from apps import data
from apps.actions import card_key, export_key
from core.config import Settings
from core.db import session_scope
from core.exports import targets
from core.exports.vault import vault
from core.models import ExportTarget
from tests.integration.test_exports import export_row, new_task
from tests.support.dashboard import TASKS, TRIAGE, click, open_page, open_task_page, texts
from tests.support.dashboard import new_task as dashboard_task

pytestmark = pytest.mark.usefixtures("dashboard")


def test_task_page_shows_exports_and_exports_to_a_target(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as session:
        for name in ("team-redmine", "n8n"):
            row = ExportTarget(name=name, type="webhook", url="https://example.invalid/hook")
            targets.add_target(session, row, vault(settings), SecretStr("s"))
    task_id = new_task(engine, title="exports on the page")
    at = open_task_page(task_id)
    assert "Not exported." in texts(at)
    at.selectbox(key=export_key(task_id)).select("n8n").run()
    click(at, f"export-{task_id}")
    assert f"Task #{task_id} is on its way to n8n." in texts(at)
    assert export_row(engine, task_id, "n8n").status == "pending"
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE task_exports SET status = 'failed', last_error = :e, url = :u WHERE task_id = :t"),
            {
                "e": "POST https://example.invalid/hook: 422 title missing",
                "u": "https://rm/issues/9",
                "t": task_id,
            },
        )
    data.task_page.clear()  # the page is cached until an event says the task changed
    shown = texts(open_task_page(task_id))
    assert "**n8n** · :gray-badge[failed]" in shown and "https://rm/issues/9" in shown
    assert "422 title missing" in shown


def test_export_selected_queues_every_ticked_task(engine: Engine, settings: Settings) -> None:
    chat = "exporting"
    ids = [dashboard_task(engine, settings, f"{chat} problem {i}", chat=chat) for i in range(3)]
    at = open_page(TRIAGE)
    at.selectbox(key="triage_chat").select(chat).run()
    for task_id in (ids[0], ids[2]):
        at.checkbox(key=card_key("pick", task_id, 1)).check()
    at.run()
    at.selectbox(key="bulk_export_target").select("n8n").run()
    click(at, "bulk_export")
    assert "2 tasks are on their way to n8n." in texts(at)
    with engine.connect() as conn:
        queued = conn.execute(text("SELECT task_id FROM task_exports WHERE target = 'n8n' AND task_id = ANY(:i)"),
                              {"i": ids}).scalars().all()  # fmt: skip
    assert sorted(queued) == [ids[0], ids[2]]


def mark_exported(engine: Engine, task_id: int, target: str, external_id: str) -> None:
    """The task in `target` as `external_id` (as the worker records it)."""
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO task_exports (task_id, target, status, external_id, url, marker, attempts,"
                 " synced_version, created_at, updated_at) VALUES (:t, :n, 'exported', :e, :u, :m, 1, 0,"
                 " now(), now())"),
            {"t": task_id, "n": target, "e": external_id, "u": f"https://rm/issues/{external_id}",
             "m": f"m-{task_id}-{target}"},
        )  # fmt: skip


def test_triage_card_shows_export_status_and_link(engine: Engine, settings: Settings) -> None:
    chat = "card-exports"
    shown, _ = (dashboard_task(engine, settings, f"{chat} problem {i}", chat=chat) for i in range(2))
    mark_exported(engine, shown, "team-redmine", "77")
    at = open_page(TRIAGE)
    at.selectbox(key="triage_chat").select(chat).run()
    on_screen = texts(at)
    assert "**team-redmine** · :gray-badge[exported] · [77](https://rm/issues/77)" in on_screen
    assert on_screen.count("team-redmine") == 1, "only the exported task's card names the target"


def test_tasks_list_filters_exported_to_a_target(engine: Engine, settings: Settings) -> None:
    chat = "list-exports"
    with session_scope(engine) as session:
        row = ExportTarget(name="list-redmine", type="webhook", url="https://example.invalid/hook")
        targets.add_target(session, row, vault(settings), SecretStr("s"))
    sent, kept = (dashboard_task(engine, settings, f"{chat} problem {i}", chat=chat) for i in range(2))
    mark_exported(engine, sent, "list-redmine", "5")
    at = open_page(TASKS)
    at.selectbox(key="tasks_chat").select(chat).run()
    assert sorted(at.dataframe[0].value["id"]) == sorted([sent, kept])
    shown = dict(zip(at.dataframe[0].value["id"], at.dataframe[0].value["exports"], strict=True))
    assert shown == {sent: "list-redmine exported #5", kept: ""}
    at.selectbox(key="tasks_exported_to").select("list-redmine").run()
    assert list(at.dataframe[0].value["id"]) == [sent]
