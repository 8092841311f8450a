"""The conversations view of a real replay: the hand-made chat of tests/unit/test_conversations_view.py
stored and classified through the pipeline into PostgreSQL, its tasks and roles read back."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, text

from core.config import Settings
from core.evaluation.conversations_replay import evaluate_conversations
from core.evaluation.conversations_view import replay_view
from tests.support.classifiers import ScriptedClassifier
from tests.unit.test_conversations_view import CHAT, chat

_PLACED = text(
    """
    SELECT m.external_id, tm.task_id, tm.role FROM messages m
    JOIN task_messages tm ON tm.message_id = m.id WHERE m.source = 'eval' AND m.chat_id = :chat
    """
)


async def test_the_view_of_a_replay_shows_the_tasks_and_roles_the_database_holds(
    engine: Engine, settings: Settings
) -> None:
    chat_id = f"-{uuid.uuid4().int % 10**9}"
    data = chat(chat_id)
    classifier = ScriptedClassifier()
    view = await replay_view(data, engine=engine, settings=settings, classifier=classifier)
    with engine.connect() as conn:
        placed = {m: (task, role) for m, task, role in conn.execute(_PLACED, {"chat": chat_id})}
    messages = view.messages
    assert list(messages["id"]) == [m[0] for m in CHAT]  # time order, every message once
    assert {r["id"]: (r["system_task"], r["role"]) for r in messages.iter_rows(named=True)
            if r["system_task"] is not None} == placed  # fmt: skip
    assert set(view.tasks["system_task"].drop_nulls()) == {task for task, _ in placed.values()}
    report, small_talk = messages.row(1, named=True), messages.row(0, named=True)
    assert report["role"] == "source" and report["system_task"] == report["expected_task"]
    assert small_talk["system_task"] is None and not small_talk["misplaced"]  # "Morning all"
    g1 = view.for_gold_task("G1").tasks.row(0, named=True)
    assert g1["match"] == "matched" and g1["system_task"] == report["system_task"]
    outside = messages.filter(messages["gold_task"].is_null())  # in any task, they are misplaced
    assert list(outside["misplaced"]) == list(outside["system_task"].is_not_null())
    # the figures are tracker eval's: a second replay stores and classifies nothing again
    assert (
        await evaluate_conversations(data, engine=engine, settings=settings, classifier=classifier)
        == view.score
    )
    assert len(classifier.calls) == len(CHAT) and view.score.llm_calls == len(CHAT)
