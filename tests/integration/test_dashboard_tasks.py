"""Tasks screen in AppTest against a real PostgreSQL: list and board, filters, search in message text."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from streamlit.testing.v1 import AppTest

from apps.actions import card_key
from core.config import Settings
from core.db import session_scope
from core.models import Kind, Priority, TaskStatus
from core.triage.commands import accept_task, assign_task
from tests.support.dashboard import (
    TASKS,
    labels_of,
    message,
    new_task,
    open_page,
    post,
    task_row,
    texts,
)

pytestmark = pytest.mark.usefixtures("dashboard")


def listed(at: AppTest) -> list[str]:
    return list(at.dataframe[0].value["title"])


def in_chat(at: AppTest, chat: str) -> AppTest:
    at.selectbox(key="tasks_chat").select(chat)
    return at.run()


def test_list_filters_by_kind_priority_status_and_assignee(engine: Engine, settings: Settings) -> None:
    bug = new_task(engine, settings, "filter: broken upload", chat="filters", priority=Priority.high)
    new_task(
        engine, settings, "filter: add dark mode", chat="filters", kind=Kind.feature, priority=Priority.low
    )
    question = new_task(
        engine, settings, "filter: where is the limit set", chat="filters", kind=Kind.question
    )
    with session_scope(engine) as session:
        assign_task(session, bug, "Oksana")
        accept_task(session, question)
    at = in_chat(open_page(TASKS), "filters")
    assert sorted(listed(at)) == [
        "filter: add dark mode",
        "filter: broken upload",
        "filter: where is the limit set",
    ]
    at.multiselect(key="tasks_kind").select(Kind.bug).select(Kind.feature).run()
    at.multiselect(key="tasks_priority").select(Priority.low).run()
    assert listed(at) == ["filter: add dark mode"]
    at.multiselect(key="tasks_kind").set_value([]).run()
    at.multiselect(key="tasks_priority").set_value([]).run()
    at.multiselect(key="tasks_status").select(TaskStatus.accepted).run()
    assert listed(at) == ["filter: where is the limit set"]
    at.multiselect(key="tasks_status").set_value([]).run()
    at.selectbox(key="tasks_assignee").select("Oksana").run()
    assert listed(at) == ["filter: broken upload"]


def test_search_finds_words_in_titles_and_in_message_text(engine: Engine, settings: Settings) -> None:
    post(engine, settings, [message("the invoice PDF has the wrong VAT rate 20%", chat="search")])
    new_task(engine, settings, "Invoice numbering restarts", chat="search")
    new_task(engine, settings, "unrelated chore", chat="search", kind=Kind.task)
    at = in_chat(open_page(TASKS), "search")
    at.text_input(key="tasks_search").input("invoice").run()
    assert sorted(listed(at)) == ["Invoice numbering restarts", "the invoice PDF has the wrong VAT rate 20%"]
    at.text_input(key="tasks_search").input("20%").run()  # % is a character here, not a wildcard
    assert listed(at) == ["the invoice PDF has the wrong VAT rate 20%"]


def test_date_filter_keeps_the_tasks_created_in_the_chosen_days(engine: Engine, settings: Settings) -> None:
    old = new_task(engine, settings, "dates: last month", chat="dates")
    new_task(engine, settings, "dates: today", chat="dates")
    with engine.begin() as conn:
        conn.execute(text("UPDATE tasks SET created_at = :when WHERE id = :id"),
                     {"when": datetime(2026, 10, 3, 12, tzinfo=UTC), "id": old})  # fmt: skip
    at = in_chat(open_page(TASKS), "dates")
    at.date_input(key="tasks_created").set_value((date(2026, 10, 1), date(2026, 10, 3))).run()
    assert listed(at) == ["dates: last month"]
    today = datetime.now(UTC).date()
    at.date_input(key="tasks_created").set_value((today - timedelta(days=1), today)).run()
    assert listed(at) == ["dates: today"]


def test_board_shows_a_column_per_status_and_moves_a_task(engine: Engine, settings: Settings) -> None:
    moving = new_task(engine, settings, "board: deploy the fix", chat="board", kind=Kind.task)
    new_task(engine, settings, "board: second one", chat="board")
    at = in_chat(open_page(TASKS), "board")
    at.radio(key="tasks_view").set_value("Board").run()
    assert [h.value for h in at.subheader] == [
        "new · 2",
        "accepted · 0",
        "in_progress · 0",
        "done · 0",
        "rejected · 0",
    ]
    at.selectbox(key=card_key("status", moving, 1)).select(TaskStatus.in_progress).run()
    assert not at.exception
    assert task_row(engine, moving)["status"] == "in_progress"
    assert [lb["action"] for lb in labels_of(engine, moving)] == ["accept"]
    assert [h.value for h in at.subheader][:3] == ["new · 1", "accepted · 0", "in_progress · 1"]
    assert f"Moved task #{moving} to in_progress." in texts(at)
