"""Core's triage decisions on a real PostgreSQL: merges that must be refused, events, search, probes."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from core import events
from core.config import Settings
from core.db import session_scope
from core.messages.reads import list_chats
from core.triage.commands import InvalidTaskChange, TaskConflict, merge_task
from core.triage.queries import TaskFilter, list_tasks, task_message_ids
from tests.support.dashboard import message, new_task, post, task_row

pytestmark = pytest.mark.backbone


def test_merge_links_messages_once_and_announces_both_tasks(engine: Engine, settings: Settings) -> None:
    target = new_task(engine, settings, "merge: the export is broken")
    source = new_task(engine, settings, "merge: export gives an empty file")
    with session_scope(engine) as session:
        before = events.latest_seq(session, [events.TASK_UPDATED])
        _, recorded = merge_task(session, source, target, expected_version=1, origin="api", author="Ira")
    assert [(e["type"], e["payload"]["id"]) for e in recorded] == [
        ("task.updated", source),
        ("task.updated", target),
    ]
    assert recorded[0]["seq"] > before
    with session_scope(engine) as session:
        links = task_message_ids(session, [source, target])
        assert set(links[source]) < set(links[target]) and len(links[target]) == 2
        assert events.latest_seq(session, [events.TASK_UPDATED]) == recorded[-1]["seq"]


def test_merges_that_would_lose_track_are_refused(engine: Engine, settings: Settings) -> None:
    a, b, c = (new_task(engine, settings, f"chain {i}") for i in range(3))
    with session_scope(engine) as session:
        merge_task(session, b, a)
    cases = [
        (c, b, "into_id", f"task {b} was merged into task {a}; merge into that one"),
        (b, c, "task_id", f"task {b} is already merged into {a}"),
        (c, c, "into_id", f"task {c} cannot be merged into itself"),
    ]
    for task_id, into_id, field, reason in cases:
        with pytest.raises(InvalidTaskChange) as refused, session_scope(engine) as session:
            merge_task(session, task_id, into_id)
        assert (refused.value.field, refused.value.reason) == (field, reason)
    with pytest.raises(TaskConflict), session_scope(engine) as session:
        merge_task(session, c, a, expected_version=7)
    assert task_row(engine, c)["merged_into_id"] is None


def test_search_covers_message_text_and_dates_bound_the_list(engine: Engine, settings: Settings) -> None:
    post(engine, settings, [message("search: рахунок не відкривається у Safari", chat="s")])
    new_task(engine, settings, "search: something else", chat="s")
    with session_scope(engine) as session:
        found, total = list_tasks(session, TaskFilter(chat_id="s", search="SAFARI"))
        assert total == 1 and found[0].title == "search: рахунок не відкривається у Safari"
        _, none = list_tasks(session, TaskFilter(chat_id="s", search="_"))  # no LIKE wildcard
        assert none == 0
        later = found[0].created_at
        since, n_since = list_tasks(session, TaskFilter(chat_id="s", created_from=later))
        assert n_since == 2 and {t.title for t in since} == {found[0].title, "search: something else"}
        assert list_tasks(session, TaskFilter(chat_id="s", created_to=later))[1] == 0


def test_chats_are_listed_with_their_titles(engine: Engine, settings: Settings) -> None:
    post(
        engine, settings, [message("hello", chat="zz-titled"), message("hi", chat="zz-bare", chat_title=None)]
    )
    with session_scope(engine) as session:
        chats = list_chats(session)
    assert chats["zz-titled"] == "Zz-Titled chat" and chats["zz-bare"] is None
