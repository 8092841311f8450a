"""Replaying a small invented chat through the real pipeline and PostgreSQL, then scoring it.

Messages are placed in conversations and each conversation's first actionable message opens
its task (core.conversations); the scripted classifier labels by keyword: "fails" bug,
"please add" task, "how" question, "wish" feature, else noise; priority high; one LLM call a
message.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from core.classification.dataset import seed_examples
from core.classification.local.model import train
from core.classification.local.store import save_model
from core.config import Settings
from core.db import session_scope
from core.evaluation.conversations import Conversations, load_conversations
from core.evaluation.conversations_replay import evaluate_conversations, replay, system_tasks
from services.cli import app
from tests.support.classifiers import ScriptedClassifier

SHOP, CLIENT = "Shop · dev", "Shop × client"
MESSAGES = [  # (id, chat, time, author, text, reply_to, gold task); a3 is listed before the message it answers
    ("a1", SHOP, "09:00", "Olena Tkach", "Morning all", None, None),
    ("a3", SHOP, "09:07", "Max Hrytsenko", "+1, seen it too", "a2", "T1"),
    ("a2", SHOP, "09:05", "Kate Morris", "Checkout fails for Android users after the update", None, "T1"),
    ("a4", SHOP, "09:10", "Max Hrytsenko", "Looking into it, it fails in the payment step", None, "T1"),
    ("a6", SHOP, "09:20", "Ira Savchuk", "Please add the new banner to the home page by Friday", None, "T2"),
    ("a7", SHOP, "09:25", "Ira Savchuk", "I'll take it", "a6", "T2"),
    ("a8", SHOP, "10:00", "Kate Morris", "How do I export orders to CSV?", None, "T3"),
    ("a9", SHOP, "10:02", "Max Hrytsenko", "Settings, Export, top right", "a8", "T3"),
    ("a5", SHOP, "11:00", "Max Hrytsenko", "Deployed the fix, done", None, "T1"),
    ("b1", CLIENT, "09:30", "Вадим Коваль", "The search fails on product names with accents", None, "T4"),
    ("b2", CLIENT, "09:40", "Вадим Коваль", "I wish we had gift cards", None, "T6"),
    ("b3", CLIENT, "12:00", "Оксана Лис", "Search fails again for accented names", None, "T5"),
    ("b4", CLIENT, "12:05", "Вадим Коваль", "forget the gift cards, not needed", None, "T6"),
    ("b5", CLIENT, "12:10", "Назар Гуменюк", "lunch?", None, None),
]  # fmt: skip
GOLD = [  # (task, kind, priority, status, assignee, root, duplicate_of)
    ("T1", "bug", "high", "done", "max", "a2", None),
    ("T2", "task", "medium", "in_progress", "ira", "a6", None),
    ("T3", "question", "low", "answered", None, "a8", None),
    ("T4", "bug", "high", "new", None, "b1", None),
    ("T5", "bug", "high", "new", None, "b3", "T4"),
    ("T6", "feature", "medium", "cancelled", None, "b2", None),
]  # fmt: skip


def write_chat(folder: Path, team: int) -> tuple[Path, Path]:
    """The invented chat as a messages file and a gold tasks file (threads_dev format); the
    chat ids carry `team`, so each test stores messages of its own."""
    authors = sorted({m[3] for m in MESSAGES})
    messages = [
        {"id": id, "chat_id": -team * 1000 - int(chat == CLIENT), "chat_title": chat,
         "topic": "Support" if chat == SHOP else None, "sent_at": f"2026-03-02T{at}:00+02:00",
         "author_id": authors.index(author) + 1, "author": author, "text": text, "reply_to": reply_to,
         "edited": False, "task": task, "lang": "en"}
        for id, chat, at, author, text, reply_to, task in MESSAGES
    ]  # fmt: skip
    tasks = [
        {"task": task, "kind": kind, "priority": priority, "title": task, "status": status, "assignee": assignee,
         "duplicate_of": duplicate_of, "root": root, "note": ""}
        for task, kind, priority, status, assignee, root, duplicate_of in GOLD
    ]  # fmt: skip
    return write_jsonl(folder / "chat.jsonl", messages), write_jsonl(folder / "chat_tasks.jsonl", tasks)


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def chat(tmp_path: Path) -> Conversations:
    return load_conversations(*write_chat(tmp_path, team=uuid.uuid4().int % 10**9))


def read_tasks(engine: Engine, stored: dict[str, int]) -> list[tuple[set[str], str, str]]:
    with session_scope(engine) as session:
        tasks, _ = system_tasks(session, stored)
    return [(set(t.messages), t.kind, t.status) for t in tasks]


async def test_replies_follow_ups_and_answers_join_their_task_in_time_order(
    engine: Engine, settings: Settings, chat: Conversations
) -> None:
    stored = await replay(chat.messages, engine=engine, settings=settings, classifier=ScriptedClassifier())
    tasks = read_tasks(engine, stored)
    holding = {m: (kind, status) for messages, kind, status in tasks for m in messages}
    assert sum(len(messages) for messages, _, _ in tasks) == len(holding)  # a message is in one task
    # the "+1" a3 joins a2's task though the file lists it first; so does a4, Max's follow-up
    assert holding["a2"] == holding["a3"] == holding["a4"] and holding["a2"][0] == "bug"
    assert holding["a6"] == holding["a7"] == ("task", "in_progress")  # "I'll take it"
    assert holding["a8"] == holding["a9"] == ("question", "done")  # answered in the chat
    assert holding["b2"][0] == "feature" and "a1" not in holding  # small talk stays outside
    assert len(tasks) < sum(1 for m in MESSAGES if m[6] is not None)  # fewer tasks than messages


async def test_figures_on_the_invented_chat_are_stable_on_replay(
    engine: Engine, settings: Settings, chat: Conversations
) -> None:
    classifier = ScriptedClassifier()
    result = await evaluate_conversations(chat, engine=engine, settings=settings, classifier=classifier)
    figures = result.as_dict()
    assert (figures["gold_tasks"], figures["recall"], figures["kind_accuracy"]) == (5, 1.0, 1.0)
    assert (
        figures["tasks_opened"] <= 5 and figures["triage_load"] <= 2.0
    )  # one card per message gave 7 and 7.0
    assert figures["bcubed_recall"] > 0.625 and figures["llm_calls"] == 14  # 0.625: one task a message
    again = await evaluate_conversations(chat, engine=engine, settings=settings, classifier=classifier)
    assert again == result  # a replayed message is stored once and classified once
    assert len(classifier.calls) == len(MESSAGES)


def count_rows(engine: Engine) -> tuple[int, ...]:
    """Messages, tasks and scratch databases (named tracker_eval_*) on the server."""
    with engine.connect() as conn:
        return tuple(conn.execute(text(
            "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM tasks),"
            " (SELECT count(*) FROM pg_database WHERE datname LIKE 'tracker_eval_%')"
        )).one())  # fmt: skip


def test_tracker_eval_conversations_leaves_the_database_as_it_was(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    messages, tasks = write_chat(tmp_path, team=1)
    model = save_model(train(seed_examples()[::4]), tmp_path / "data", activate=False)
    env = {"TRACKER_DATA_DIR": str(tmp_path / "data"), "TRACKER_DATABASE_URL": database_url}
    args = ["eval", "--conversations", str(messages), "--tasks", str(tasks), "--model", str(model)]
    before = count_rows(engine)
    res = CliRunner().invoke(app, [*args, "--format", "json"], env=env)
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert (report["messages"], report["gold_tasks"], report["llm_calls"]) == (14, 5, 0)
    assert 0 < report["bcubed_f1"] <= 1 and report["tasks_opened"] >= 1
    assert count_rows(engine) == before  # the replay went to a scratch database, since dropped
