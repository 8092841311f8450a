"""Triage on a multi-selection, in AppTest against a real PostgreSQL and NATS: all of it or nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from apps.actions import card_key
from core.config import Settings
from core.db import session_scope
from core.models import Kind, Priority
from core.triage.commands import assign_task
from tests.support.dashboard import (
    TRIAGE,
    EventListener,
    click,
    labels_of,
    new_task,
    open_page,
    task_row,
    texts,
)

pytestmark = pytest.mark.usefixtures("dashboard")


def tick(at: AppTest, *task_ids: int) -> AppTest:
    for task_id in task_ids:
        at.checkbox(key=card_key("pick", task_id, 1)).check()
    return at.run()


def tasks_in(engine: Engine, settings: Settings, chat: str, n: int = 3) -> tuple[AppTest, list[int]]:
    """n new tasks in their own chat, and the inbox filtered to that chat."""
    ids = [new_task(engine, settings, f"{chat} problem {i}", chat=chat) for i in range(n)]
    at = open_page(TRIAGE)
    at.selectbox(key="triage_chat").select(chat).run()
    return at, ids


def column(engine: Engine, ids: list[int], name: str) -> list[object]:
    return [task_row(engine, t)[name] for t in ids]


def test_accept_selected(engine: Engine, settings: Settings) -> None:
    at, ids = tasks_in(engine, settings, "accepting")
    tick(at, ids[0], ids[2])
    assert at.expander[0].label.startswith("Selected: 2")
    with EventListener(settings).listening() as heard:
        click(at, "bulk_accept")
        heard.wait_for(lambda e: e["payload"].get("id") == ids[2] and e["payload"]["status"] == "accepted")
    assert column(engine, ids, "status") == ["accepted", "new", "accepted"]
    assert [lb["action"] for lb in labels_of(engine, ids[0])] == ["accept"]
    assert "Accepted 2 tasks." in texts(at)


def test_select_all_then_reject_as_noise(engine: Engine, settings: Settings) -> None:
    at, ids = tasks_in(engine, settings, "rejecting")
    click(at, "bulk_all")
    assert at.expander[0].label.startswith("Selected: 3")
    click(at, "bulk_reject")
    assert column(engine, ids, "status") == ["rejected"] * 3
    assert {lb["kind"] for t in ids for lb in labels_of(engine, t)} == {"noise"}
    assert "Nothing to triage" in texts(at)


def test_set_kind_and_priority_of_the_selected(engine: Engine, settings: Settings) -> None:
    at, ids = tasks_in(engine, settings, "correcting")
    tick(at, ids[0], ids[1])
    at.selectbox(key="bulk_kind").select(Kind.feature)
    click(at, "bulk_set_kind")
    assert column(engine, ids, "kind") == ["feature", "feature", "bug"]
    tick(at, *[])  # the changed tasks have new versions: their ticks are gone
    assert at.expander[0].label.startswith("Selected: 0")
    at.checkbox(key=card_key("pick", ids[0], 2)).check()
    at.selectbox(key="bulk_priority").select(Priority.critical)
    click(at, "bulk_set_priority")
    assert column(engine, ids, "priority") == ["critical", "medium", "medium"]
    assert [lb["action"] for lb in labels_of(engine, ids[0])] == ["correct", "correct"]


def test_assign_selected(engine: Engine, settings: Settings) -> None:
    at, ids = tasks_in(engine, settings, "assigning")
    tick(at, *ids)
    at.text_input(key="bulk_assignee").input("Iryna")
    click(at, "bulk_assign")
    assert column(engine, ids, "assignee") == ["Iryna"] * 3
    assert "Assigned 3 tasks to Iryna." in texts(at)


def test_merge_selected_into_another_task(engine: Engine, settings: Settings) -> None:
    at, ids = tasks_in(engine, settings, "merging")
    tick(at, ids[1], ids[2])
    at.number_input(key="bulk_merge_into").set_value(ids[0])
    click(at, "bulk_merge")
    assert column(engine, ids, "merged_into_id") == [None, ids[0], ids[0]]
    assert [lb["action"] for lb in labels_of(engine, ids[0])] == ["merge", "merge"]


def test_merging_the_target_into_itself_changes_none_of_them(engine: Engine, settings: Settings) -> None:
    at, ids = tasks_in(engine, settings, "selfmerge")
    tick(at, *ids)
    at.number_input(key="bulk_merge_into").set_value(ids[2])
    click(at, "bulk_merge")
    assert at.error[0].value == f"Nothing was changed: task {ids[2]} cannot be merged into itself."
    assert column(engine, ids, "merged_into_id") == [None] * 3
    assert column(engine, ids, "version") == [1] * 3


def test_one_task_changed_meanwhile_leaves_all_selected_unchanged(engine: Engine, settings: Settings) -> None:
    at, ids = tasks_in(engine, settings, "racing")
    tick(at, *ids)
    with session_scope(engine) as session:  # someone else assigns the middle one meanwhile
        assign_task(session, ids[1], "Taras", expected_version=1)
    click(at, "bulk_accept")
    assert "someone else changed one of the selected tasks" in at.error[0].value
    assert column(engine, ids, "status") == ["new"] * 3
    assert labels_of(engine, ids[0]) == [] and labels_of(engine, ids[2]) == []


def test_acting_with_nothing_selected_says_so(engine: Engine, settings: Settings) -> None:
    at, ids = tasks_in(engine, settings, "idle", n=1)
    click(at, "bulk_accept")
    assert at.error[0].value == "Nothing was changed: tick the tasks to act on first."
    assert column(engine, ids, "status") == ["new"]
