"""With an LLM configured, each task's title and summary are written from its conversation
(issue 11, point 2): through the real pipeline on PostgreSQL, the summaries asked over HTTP of
the OpenAI-compatible stand-in server, several tasks per call, cached, never over a person's title.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, text

from core.config import Settings
from core.conversations.summaries import Summarizer, build_summarizer
from core.db import session_scope
from core.models import ChangeOrigin, Kind
from core.schemas import TaskUpdate
from core.triage.commands import update_task
from tests.support.conversations import PUSH_BUG, Chat, Line, history, say, tasks
from tests.support.llm_stub import StubLLM, stub_llm_server

pytestmark = pytest.mark.backbone

QUESTION = [Line("Oleh", 0, "Where is the staging password stored now?", Kind.question)]
FEATURE = [Line("Ira", 0, "Додайте експорт записів у CSV, будь ласка", Kind.feature)]
MORE = [
    Line("Kate", 120, "Still broken on Xiaomi after 3.0.5", reply=0),
    Line("Dima", 125, "Подивлюсь"),
    Line("Kate", 130, "Logs attached"),
]


def summarizer(engine: Engine, settings: Settings, stub: StubLLM) -> Summarizer:
    llm = settings.model_copy(
        update={"classifier": "cascade", "llm_provider": "openai", "llm_base_url": stub.base_url,
                "llm_model": "stub:latest", "llm_output_mode": "prompted", "summary_regrow": 3}
    )  # fmt: skip
    made = build_summarizer(llm, engine)
    assert made is not None
    return made


def calls(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM summary_calls")).scalar_one())


async def test_tasks_get_an_llm_title_and_summary_batched_cached_and_never_over_a_persons_title(
    engine: Engine, settings: Settings, model_requests: None
) -> None:
    bug, question, feature = Chat(), Chat(), Chat()
    for chat, lines in ((bug, PUSH_BUG), (question, QUESTION), (feature, FEATURE)):
        await say(engine, settings, chat, lines)
    bug_task, question_task, feature_task = (tasks(engine, c)[0] for c in (bug, question, feature))
    published: list[Any] = []

    async def publish(new: list[Any]) -> None:
        published.extend(new)

    with stub_llm_server() as stub:
        made = summarizer(engine, settings, stub)
        before = calls(engine)
        first = await made.round(publish)
        assert len(stub.summaries) == 1 and calls(engine) == before + 1  # one call for all three
        assert {str(t.id) for t in (bug_task, question_task, feature_task)} <= set(stub.summaries[0])
        [bug_now] = tasks(engine, bug)
        assert bug_now.title == PUSH_BUG[0].text[:80]
        assert bug_now.description == f"6 messages.\nLatest: {PUSH_BUG[5].text}"
        written = [c for c in history(engine, bug_task.id) if c.origin == ChangeOrigin.llm]
        assert {c.field for c in written} == {"title", "description"}
        assert {e["payload"]["id"] for e in published if e["type"] == "task.updated"} >= {bug_task.id}
        assert bug_task.id in first.summarized

        again = await made.round(publish)  # nothing grew: nothing due, no call
        assert again.calls == 0 and len(stub.summaries) == 1

        with session_scope(engine) as session:
            update_task(
                session, bug_task.id, TaskUpdate(title="Android pushes (Kate's salons)"), author="Olena"
            )
        with engine.begin() as conn:  # the cached answers stay; the notes of what was summarized go
            conn.execute(text("DELETE FROM task_summaries WHERE task_id = ANY(:t)"),
                         {"t": [question_task.id, feature_task.id]})  # fmt: skip
        cached = await made.round(publish)
        assert cached.cached >= 2 and cached.calls == 0 and len(stub.summaries) == 1

        await say(engine, settings, bug, MORE, first=len(PUSH_BUG))
        await made.round(publish)
        [bug_now] = tasks(engine, bug)
        assert bug_now.title == "Android pushes (Kate's salons)"  # a person's title wins
        assert all(str(bug_task.id) not in asked for asked in stub.summaries[1:])
