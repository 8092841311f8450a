"""Conversations on the dashboard (issue 11, point 6), in AppTest against a real PostgreSQL and
NATS: chats go through the real pipeline; the triage card and the task page show the
conversation with roles, the reporters, the history with its evidence and similar tasks; one
click merges into a similar task, and a message moves to a new task (split) or another task."""

from __future__ import annotations

import asyncio
import re

import pytest
from sqlalchemy import Engine, text
from streamlit.testing.v1 import AppTest

from apps.actions import card_key, move_key
from core.config import Settings
from core.db import session_scope
from core.models import Kind
from core.triage.commands import assign_task
from tests.support.conversations import PUSH_BUG, Chat, Line, say, tasks
from tests.support.dashboard import (
    TRIAGE,
    EventListener,
    click,
    labels_of,
    open_page,
    open_task_page,
    task_row,
    texts,
)

pytestmark = pytest.mark.usefixtures("dashboard")

BUG = Kind.bug


def chat_says(engine: Engine, settings: Settings, lines: list[Line], chat: Chat | None = None) -> Chat:
    """The lines arrive one by one through the real pipeline; returns the chat."""
    chat = chat or Chat()
    asyncio.run(say(engine, settings, chat, lines))
    return chat


def message_heads(at: AppTest) -> list[str]:
    """The first line of each message on the task page: author, time and role."""
    return [m.value.split("  \n")[0] for m in at.markdown if re.match(r"\*\*[^#].* · ", m.value)]


def task_messages(engine: Engine, task_id: int) -> dict[int, str]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT message_id, role FROM task_messages WHERE task_id = :t"), {"t": task_id}
        ).all()
    return {r.message_id: r.role for r in rows}


def test_the_task_page_shows_the_conversation_with_roles_and_the_history_with_its_evidence(
    engine: Engine, settings: Settings
) -> None:
    chat = chat_says(engine, settings, PUSH_BUG)
    [task] = tasks(engine, chat)
    at = open_task_page(task.id)
    heads = message_heads(at)
    assert [h.split(" · ")[0] for h in heads] == [
        "**Kate**",
        "**Dima**",
        "**Kate**",
        "**Andrii**",
        "**Dima**",
        "**Dima**",
    ]
    assert [h.split(" · ")[-1] for h in heads] == [
        ":blue-badge[report]", ":gray-badge[detail]", ":gray-badge[detail]",
        ":green-badge[update]", ":green-badge[update]", ":green-badge[update]",
    ]  # fmt: skip
    assert heads[3].split(" · ")[1] == "2026-11-16 09:20 UTC"
    screen = texts(at)
    assert "6 messages · 1 reporter · assigned to Dima · no resolution" in screen
    assert (
        "**priority** medium → critical  \nfrom Andrii's message: “Це критично, салони втрачають гроші”"
        in screen
    )
    assert "**status** in_progress → done  \nfrom Dima's message: “задеплоїв фікс пушів в 3.0.5”" in screen


def test_a_person_s_change_shows_who_made_it_and_an_answered_question_its_resolution(
    engine: Engine, settings: Settings
) -> None:
    chat = chat_says(engine, settings, [
        Line("Max", 0, "Where is the password for the staging App Store account?", Kind.question),
        Line("Yulia", 1, "In 1Password, vault Mobile", reply=0),
    ])  # fmt: skip
    [task] = tasks(engine, chat)
    at = open_task_page(task.id, author="Oksana")
    assert ":green-badge[answer]" in message_heads(at)[1]
    assert "resolution: answered" in texts(at)
    with session_scope(engine) as session:  # meanwhile, through the API
        assign_task(session, task.id, "Yulia", author="Oksana")
    at.run()  # what the live probe triggers
    assert "**assignee** — → Yulia  \nby Oksana" in texts(at)


def test_the_triage_card_counts_messages_and_reporters_and_opens_the_conversation(
    engine: Engine, settings: Settings
) -> None:
    chat = chat_says(engine, settings, [
        Line("Oksana", 0, "Клієнти не можуть вибрати відділення НП на оформленні", BUG),
        Line("Vadym", 2, "У меня тоже, Одесса пустая", reply=0),
        Line("Maryna", 3, "+1", reply=0),
        Line("Petro", 5, "Схоже, довідник відділень не оновився вночі", reply=0),
    ])  # fmt: skip
    [task] = tasks(engine, chat)
    at = open_page(TRIAGE)
    assert "4 messages · 3 reporters" in texts(at)
    assert "… and 1 more message" in texts(at)
    assert not any("Petro" in m.value for m in at.markdown)  # the fourth message waits in the expander
    at.session_state[card_key("conversation", task.id, task.version)] = True
    at.run()
    [petro] = [m.value for m in at.markdown if m.value.startswith("**Petro**")]
    assert petro.endswith(":gray-badge[detail]")
    # the two +1s, among the first three messages and again in the whole conversation
    assert sum(":violet-badge[+1]" in m.value for m in at.markdown) == 4
    [link] = at.get("page_link")
    assert (link.proto.page, link.proto.query_string) == ("task", f"task={task.id}")


def test_a_similar_task_is_offered_and_one_click_merges_into_it(engine: Engine, settings: Settings) -> None:
    dev = chat_says(
        engine, settings, [Line("Taras", 0, "Android push notifications not delivered since 3.0.4", BUG)]
    )
    support = chat_says(
        engine,
        settings,
        [Line("Kate", 600, "Customers report push notifications not delivered on Android", BUG)],
    )
    [original], [duplicate] = tasks(engine, dev), tasks(engine, support)
    assert original.id != duplicate.id  # another source: not linked by itself
    at = open_task_page(duplicate.id, author="Mykola")
    assert f"**#{original.id} · Android push notifications not delivered since 3.0.4**" in texts(at)
    with EventListener(settings).listening() as heard:
        click(at, card_key(f"merge_into:{original.id}", duplicate.id, duplicate.version))
        heard.wait_for(lambda e: e["type"] == "task.updated" and e["payload"]["id"] == original.id
                       and len(e["payload"]["message_ids"]) == 2)  # fmt: skip
    assert task_row(engine, duplicate.id)["merged_into_id"] == original.id
    [label] = labels_of(engine, original.id)
    assert (label["action"], label["origin"], label["author"]) == ("merge", "dashboard", "Mykola")
    assert f"Merged task #{duplicate.id} into #{original.id}." in texts(at)
    assert at.query_params["task"] == str(original.id)  # the page follows to the task merged into
    assert [h.split(" · ")[-1] for h in message_heads(at)] == [
        ":blue-badge[report]",
        ":orange-badge[duplicate report]",
    ]


def test_a_message_moves_to_a_new_task_and_back_by_number(engine: Engine, settings: Settings) -> None:
    chat = chat_says(
        engine,
        settings,
        [*PUSH_BUG[:3], Line("Kate", 9, "And the invoice PDF shows the wrong VAT rate", reply=2)],
    )
    [task] = tasks(engine, chat)
    moved = chat.ids[3]
    at = open_task_page(task.id, author="Olena")
    at.session_state[card_key(f"move:{moved}", task.id, task.version)] = True  # open its "Move" popover
    at.run()
    with EventListener(settings).listening() as heard:
        click(at, card_key(f"split:{moved}", task.id, task.version))
        created = heard.wait_for(lambda e: e["type"] == "task.created")
        heard.wait_for(lambda e: e["type"] == "task.updated" and e["payload"]["id"] == task.id)
    split = created["payload"]["id"]
    assert task_messages(engine, split) == {moved: "manual"}
    assert moved not in task_messages(engine, task.id)
    assert f"Moved message #{moved} to a new task #{split}." in texts(at)
    assert len(message_heads(at)) == 3  # the page shows the task without it
    [label] = labels_of(engine, split)
    assert (label["action"], label["origin"], label["author"]) == ("move", "dashboard", "Olena")

    version = task_row(engine, split)["version"]
    back = open_task_page(split)
    back.session_state[card_key(f"move:{moved}", split, version)] = True
    back.run()
    back.number_input(key=move_key(moved, split, version)).set_value(task.id)
    click(back, card_key(f"move_there:{moved}", split, version))
    assert f"Moved message #{moved} to task #{task.id}." in texts(back)
    assert task_messages(engine, task.id)[moved] == "manual" and task_messages(engine, split) == {}
