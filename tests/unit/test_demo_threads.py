"""The demo chat's conversations data set: in sync with evals/demo_chat.txt and loadable."""

from __future__ import annotations

import re

import pytest

from core.evaluation.conversations import assignee_token, load_conversations
from evals.make_demo_chat import DEMO_SCRIPT, OUT, PEOPLE, demo_export, export_json
from evals.make_demo_threads import (
    MESSAGES,
    TASKS,
    demo_threads,
    gold_tasks,
    jsonl_text,
    language,
    read_jsonl,
)


def test_the_generated_files_are_in_sync_with_the_chat_script() -> None:
    """Regenerating writes what is committed (run `python -m evals.make_demo_chat` and
    `python -m evals.make_demo_threads` after editing demo_chat.txt)."""
    export, _ = demo_export()
    assert export_json(export) == OUT.read_text(encoding="utf-8")
    messages = demo_threads()
    assert jsonl_text(messages) == MESSAGES.read_text(encoding="utf-8")
    assert jsonl_text(gold_tasks(messages, read_jsonl(TASKS))) == TASKS.read_text(encoding="utf-8")


def test_every_task_marked_in_the_chat_has_a_gold_row_and_back() -> None:
    marked = set(re.findall(r"^\d \d\d:\d\d \w+[^|]* =(T\d+)", DEMO_SCRIPT.read_text(encoding="utf-8"), re.M))
    labelled = {row["task"] for row in read_jsonl(TASKS)}
    assert len(marked) > 40
    assert labelled == {f"K-{task}" for task in marked}


def test_the_data_set_loads_with_its_gold_tasks() -> None:
    data = load_conversations(MESSAGES, TASKS)
    people = {assignee_token(name) for name, _ in PEOPLE.values()}
    assert len(data.messages) == len(demo_threads()) and len(data.gold_tasks) == len(read_jsonl(TASKS))
    assert {t.assignee for t in data.gold_tasks} - {None} <= people
    no_task = [m for m in data.messages if m.task is None]
    assert 0.2 < len(no_task) / len(data.messages) < 0.4  # small talk, greetings, announcements
    assert all(t.root == min(t.messages) for t in data.gold_tasks)  # ids run in time order


def test_a_chat_task_without_a_gold_row_and_a_gold_row_without_messages_are_refused() -> None:
    messages = demo_threads()
    rows = read_jsonl(TASKS)
    with pytest.raises(ValueError, match="no gold row for K-T01"):
        gold_tasks(messages, rows[1:])
    with pytest.raises(ValueError, match="no message of the chat is marked K-T99"):
        gold_tasks(messages, [*rows, {**rows[0], "task": "K-T99"}])


@pytest.mark.parametrize(
    ("text", "usual", "expected"),
    [
        ("Heads up: SSL cert expires on Friday. Треба оновити до четверга", "uk", "mixed"),
        ("В адмінці, Settings → Flags, new_checkout, можна по user id", "uk", "uk"),
        ("не запрашиваем, да. в 2.3 забыли добавить", "uk", "ru"),
        ('Is "Кошик" written with a capital letter?', "en", "en"),
        ("привет, я с телефона сегодня", "ru", "ru"),  # no telling letters: the author's
        ("🎉🎉", "uk", "uk"),
        ("шо там по релізу, ничего не слышно", "uk", "mixed"),
    ],
)
def test_language_guess(text: str, usual: str, expected: str) -> None:
    assert language(text, usual) == expected
