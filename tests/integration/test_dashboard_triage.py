"""Triage inbox in Streamlit's AppTest against a real PostgreSQL and NATS: every decision, one by one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from apps.actions import card_key
from core.config import Settings
from core.db import session_scope
from core.models import Kind, Priority
from core.schemas import TaskUpdate
from core.triage.commands import update_task
from tests.support.dashboard import (
    TRIAGE,
    EventListener,
    Verdict,
    click,
    labels_of,
    message,
    new_task,
    open_editing,
    open_page,
    post,
    task_row,
    texts,
)

pytestmark = pytest.mark.usefixtures("dashboard")


def card_titles(at: AppTest) -> list[str]:
    return [m.value.split("**")[1] for m in at.markdown if m.value.startswith("**#")]


def test_inbox_lists_new_tasks_critical_then_newest_with_their_sources(
    engine: Engine, settings: Settings
) -> None:
    base = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    parent, reply, other = (
        "deploy at 18:00 today",
        "checkout returns 500 after the deploy",
        "dark mode please",
    )
    post(
        engine, settings,
        [message(parent, external_id="p1", author="Ivan", sent_at=base),
         message(reply, external_id="r1", author="Olena", sent_at=base + timedelta(minutes=5), reply_to_external_id="p1"),
         message(other, external_id="o1", author="Petro", chat="product", sent_at=base)],
        {parent: Verdict(kind=Kind.noise, priority=None)},
    )  # fmt: skip
    low_old = new_task(engine, settings, "typo on the pricing page", priority=Priority.low)
    critical = new_task(
        engine, settings, "payments failing for everyone", priority=Priority.critical, confidence=0.93
    )

    at = open_page(TRIAGE)
    titles = card_titles(at)
    assert titles[0] == f"#{critical} · payments failing for everyone"
    assert titles[-1] == f"#{low_old} · typo on the pricing page"
    screen = texts(at)
    assert "confidence 0.93" in screen and ":red-badge[critical]" in screen and ":violet-badge[bug]" in screen
    assert "**Olena** in *Support chat* (test) · 2026-11-20 09:05 UTC" in screen
    assert "replying to Ivan: deploy at 18:00 today" in screen
    assert "Classified by local test-1 · model local:test-1 · prompt p-test" in screen
    assert "4 new tasks to triage" in screen  # the noise message opened none


def test_accept_changes_the_task_records_a_label_and_publishes_the_event(
    engine: Engine, settings: Settings
) -> None:
    task_id = new_task(engine, settings, "login with Google fails")
    at = open_page(TRIAGE, author="Mykola")
    with EventListener(settings).listening() as heard:
        click(at, card_key("accept", task_id, 1))
        event = heard.wait_for(lambda e: e["type"] == "task.updated" and e["payload"]["id"] == task_id)
    assert event["payload"]["status"] == "accepted"
    assert task_row(engine, task_id)["status"] == "accepted"
    [label] = labels_of(engine, task_id)
    assert (label["action"], label["kind"], label["origin"], label["author"]) == (
        "accept",
        "bug",
        "dashboard",
        "Mykola",
    )
    assert f"Accepted task #{task_id}." in texts(at)
    assert f"#{task_id} · login with Google fails" not in card_titles(at)


def test_reject_as_noise_labels_the_messages_noise(engine: Engine, settings: Settings) -> None:
    task_id = new_task(engine, settings, "lol same", kind=Kind.question)
    at = open_page(TRIAGE)
    click(at, card_key("reject", task_id, 1))
    assert task_row(engine, task_id)["status"] == "rejected"
    assert [(lb["action"], lb["kind"], lb["priority"]) for lb in labels_of(engine, task_id)] == [
        ("reject", "noise", None)
    ]


def test_correct_title_kind_and_priority(engine: Engine, settings: Settings) -> None:
    task_id = new_task(engine, settings, "can we export to csv", kind=Kind.question, priority=Priority.low)
    at = open_editing(open_page(TRIAGE), task_id)
    at.text_input(key=card_key("title", task_id, 1)).input("CSV export of tasks")
    at.selectbox(key=card_key("kind", task_id, 1)).select(Kind.feature)
    at.selectbox(key=card_key("priority", task_id, 1)).select(Priority.high)
    click(at, card_key("save", task_id, 1))
    row = task_row(engine, task_id)
    assert (row["title"], row["kind"], row["priority"], row["status"], row["version"]) == (
        "CSV export of tasks", "feature", "high", "new", 2,
    )  # fmt: skip
    assert [(lb["action"], lb["kind"], lb["title"]) for lb in labels_of(engine, task_id)] == [
        ("correct", "feature", "CSV export of tasks")
    ]
    assert f"#{task_id} · CSV export of tasks" in card_titles(at)


def test_an_empty_title_is_refused_and_nothing_changes(engine: Engine, settings: Settings) -> None:
    task_id = new_task(engine, settings, "report shows double sums")
    at = open_editing(open_page(TRIAGE), task_id)
    at.text_input(key=card_key("title", task_id, 1)).input("   ")
    at.selectbox(key=card_key("kind", task_id, 1)).select(Kind.task)
    click(at, card_key("save", task_id, 1))
    assert [e.value for e in at.error] == ["Nothing was changed: the title must not be empty."]
    row = task_row(engine, task_id)
    assert (row["title"], row["kind"], row["version"]) == ("report shows double sums", "bug", 1)
    assert labels_of(engine, task_id) == []


def test_assign_and_unassign(engine: Engine, settings: Settings) -> None:
    task_id = new_task(engine, settings, "renew the TLS certificate", kind=Kind.task)
    at = open_editing(open_page(TRIAGE), task_id)
    at.text_input(key=card_key("assignee", task_id, 1)).input("Andrii")
    click(at, card_key("assign", task_id, 1))
    assert task_row(engine, task_id)["assignee"] == "Andrii"
    open_editing(at, task_id, version=2)
    at.text_input(key=card_key("assignee", task_id, 2)).input("")
    click(at, card_key("assign", task_id, 2))
    assert task_row(engine, task_id)["assignee"] is None
    assert [lb["action"] for lb in labels_of(engine, task_id)] == ["assign", "assign"]
    assert f"Unassigned task #{task_id}." in texts(at)


def test_merge_moves_the_messages_to_the_other_task(engine: Engine, settings: Settings) -> None:
    original = new_task(engine, settings, "search is broken", priority=Priority.high)
    duplicate = new_task(engine, settings, "search does not find anything", priority=Priority.low)
    at = open_editing(open_page(TRIAGE), duplicate)
    at.number_input(key=card_key("merge_into", duplicate, 1)).set_value(original)
    with EventListener(settings).listening() as heard:
        click(at, card_key("merge", duplicate, 1))
        heard.wait_for(
            lambda e: e["payload"]["id"] == original and len(e["payload"].get("message_ids", [])) == 2
        )
    assert task_row(engine, duplicate)["merged_into_id"] == original
    assert task_row(engine, original)["version"] == 2
    [label] = labels_of(engine, original)
    assert (label["action"], label["kind"], label["priority"]) == ("merge", "bug", "high")
    assert f"#{duplicate} · search does not find anything" not in card_titles(at)
    assert f"Merged task #{duplicate} into #{original}." in texts(at)


def test_merge_into_itself_is_refused(engine: Engine, settings: Settings) -> None:
    task_id = new_task(engine, settings, "slow dashboard")
    at = open_editing(open_page(TRIAGE), task_id)
    at.number_input(key=card_key("merge_into", task_id, 1)).set_value(task_id)
    click(at, card_key("merge", task_id, 1))
    assert [e.value for e in at.error] == [
        f"Nothing was changed: task {task_id} cannot be merged into itself."
    ]
    row = task_row(engine, task_id)
    assert (row["merged_into_id"], row["version"]) == (None, 1)


def test_merge_into_a_missing_task_is_refused(engine: Engine, settings: Settings) -> None:
    task_id = new_task(engine, settings, "wrong totals in invoices")
    at = open_editing(open_page(TRIAGE), task_id)
    click(at, card_key("merge", task_id, 1))
    assert "give the number of the task to merge into" in at.error[0].value
    at.number_input(key=card_key("merge_into", task_id, 1)).set_value(999_999)
    click(at, card_key("merge", task_id, 1))
    assert at.error[0].value == "Nothing was changed: task 999999 does not exist."
    assert task_row(engine, task_id)["merged_into_id"] is None


def test_a_task_someone_else_just_changed_is_not_overwritten(engine: Engine, settings: Settings) -> None:
    task_id = new_task(engine, settings, "export times out")
    at = open_page(TRIAGE)
    with session_scope(engine) as session:  # another person, through the API, meanwhile
        update_task(session, task_id, TaskUpdate(priority=Priority.critical, expected_version=1))
    click(at, card_key("accept", task_id, 1))
    assert "someone else changed the task since this page was loaded" in at.error[0].value
    row = task_row(engine, task_id)
    assert (row["status"], row["priority"], row["version"]) == ("new", "critical", 2)
    assert [lb["origin"] for lb in labels_of(engine, task_id)] == ["api"]
    assert ":red-badge[critical]" in texts(at)  # the screen shows the current state


def test_a_new_task_shows_on_the_next_probe_without_any_click(engine: Engine, settings: Settings) -> None:
    new_task(engine, settings, "an earlier task", chat="ops")
    at = open_page(TRIAGE)
    at.selectbox(key="triage_chat").select("ops").run()
    assert "Ops chat" in texts(at) and len(card_titles(at)) == 1
    task_id = new_task(engine, settings, "api key leaked in chat", chat="ops", priority=Priority.critical)
    at.run()  # what the one-second live probe triggers in the browser when the outbox moves
    assert card_titles(at)[0] == f"#{task_id} · api key leaked in chat"


def test_filters_and_paging(engine: Engine, settings: Settings) -> None:
    for i in range(27):
        new_task(engine, settings, f"bug number {i}", chat="paging")
    other = new_task(engine, settings, "question from product", chat="paging", kind=Kind.question)
    at = open_page(TRIAGE)
    at.selectbox(key="triage_chat").select("paging").run()
    assert len(card_titles(at)) == 25 and "28 new tasks to triage" in texts(at)
    at.pagination[0].select(2).run()
    assert len(card_titles(at)) == 3
    at.multiselect(key="triage_kind").select(Kind.question).run()
    assert card_titles(at) == [f"#{other} · question from product"]
    at.multiselect(key="triage_priority").select(Priority.critical).run()
    assert card_titles(at) == [] and "Nothing to triage" in texts(at)
