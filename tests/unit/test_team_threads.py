"""Our second training set (evals/team_chat.txt): in sync with its script, loadable, and as hard
as it was written to be (follow-ups that are not replies, duplicates, every final status)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest

from core.evaluation.conversations import assignee_token, load_conversations
from evals.make_demo_threads import gold_tasks, jsonl_text, read_jsonl
from evals.make_team_threads import MESSAGES, SCRIPT, TASKS, team_threads


def test_the_generated_files_are_in_sync_with_the_chat_script() -> None:
    """Regenerating writes what is committed (`python -m evals.make_team_threads`)."""
    messages = team_threads(SCRIPT.read_text(encoding="utf-8"))
    assert jsonl_text(messages) == MESSAGES.read_text(encoding="utf-8")
    assert jsonl_text(gold_tasks(messages, read_jsonl(TASKS), TASKS)) == TASKS.read_text(encoding="utf-8")


def test_the_data_set_loads_and_its_assignees_are_people_of_the_chats() -> None:
    data = load_conversations(MESSAGES, TASKS)
    people = {assignee_token(m.author) for m in data.messages}
    assert len(data.messages) > 400 and len(data.gold_tasks) >= 40
    assert {t.assignee for t in data.gold_tasks} - {None} <= people
    assert {t.status for t in data.gold_tasks} == {"new", "in_progress", "done", "answered", "cancelled"}
    assert sum(t.duplicate_of is not None for t in data.gold_tasks) >= 4
    assert all(t.root == min(t.messages) for t in data.gold_tasks)  # ids run in time order per chat


def test_most_follow_ups_are_neither_replies_nor_quick() -> None:
    """What the demo set lacks: a task's later messages mostly arrive without a reply, and many
    more than 5 minutes after the task's previous message."""
    data = load_conversations(MESSAGES, TASKS)
    roots = {t.root for t in data.gold_tasks}
    last: dict[str, datetime] = {}
    late_plain = 0
    follow_ups = [m for m in data.messages if m.task is not None and m.id not in roots]
    for m in sorted(data.messages, key=lambda m: m.sent_at):
        if m.task is None:
            continue
        previous = last.get(m.task)
        if m.id not in roots and m.reply_to is None and previous is not None:
            late_plain += m.sent_at - previous > timedelta(minutes=5)
        last[m.task] = m.sent_at
    assert sum(m.reply_to is None for m in follow_ups) / len(follow_ups) > 0.6
    assert late_plain >= 80


def test_languages_are_mixed_as_in_ukrainian_teams() -> None:
    rows = read_jsonl(MESSAGES)
    share = {lang: n / len(rows) for lang, n in Counter(row["lang"] for row in rows).items()}
    assert share["uk"] == pytest.approx(0.45, abs=0.05)
    assert share["ru"] == pytest.approx(0.25, abs=0.06)
    assert share["en"] == pytest.approx(0.20, abs=0.06)
    assert share["mixed"] == pytest.approx(0.10, abs=0.04)


def test_a_message_with_an_unknown_mark_or_no_text_separator_is_refused() -> None:
    head = "chat -1 x X\nperson a 1 uk A\nday 2026-11-23\n"
    assert team_threads(head + "09:00 a =T01 | hi")[0]["task"] == "X-T01"
    with pytest.raises(ValueError, match="unknown mark '%x'"):
        team_threads(head + "09:00 a %x | hi")
    with pytest.raises(ValueError, match="no ' \\| ' before the text"):
        team_threads(head + "09:00 a hi")


def test_new_work_from_someone_busy_in_another_task_is_common() -> None:
    """What the scorer over-joins: a new report, not a reply, from someone who wrote in another
    task of the chat within the last 30 minutes (a support person relaying one customer problem
    after another, a developer in one bug posting another) opens its own task."""
    data = load_conversations(MESSAGES, TASKS)
    roots = {t.root for t in data.gold_tasks}
    messages = sorted(data.messages, key=lambda m: (m.chat_id, m.sent_at))
    busy_reports = 0
    for index, m in enumerate(messages):
        if m.id in roots and m.reply_to is None:
            busy_reports += any(
                x.chat_id == m.chat_id and x.author == m.author and x.task not in (None, m.task)
                and m.sent_at - x.sent_at <= timedelta(minutes=30)
                for x in messages[:index]
            )  # fmt: skip
    assert busy_reports >= 25
