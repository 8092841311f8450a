"""Exports on the dashboard's task page (AppTest, real PostgreSQL and NATS): the status, the
link and the tracker's refusal of each export, and "Export to ..." queuing one."""

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
from tests.support.dashboard import TRIAGE, click, open_page, open_task_page, texts
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
