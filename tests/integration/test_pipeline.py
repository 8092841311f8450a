"""The classification pipeline against a real PostgreSQL: idempotent, nothing lost."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, text

from core.config import Settings
from core.db import Session, session_scope
from core.messages.ingest import apply_edit, ingest
from core.schemas import MessageCreate
from core.triage.pipeline import claim_due, classify_messages
from tests.support.classifiers import ScriptedClassifier
from tests.support.processes import wait_until

pytestmark = pytest.mark.backbone


class Published(list[dict[str, Any]]):
    async def __call__(self, events: list[dict[str, Any]]) -> None:
        self.extend(events)


def store(engine: Engine, texts: list[str], reply_to: str | None = None) -> list[int]:
    """Messages in a new chat of a source of its own (no other test's task is a duplicate)."""
    chat = uuid.uuid4().hex
    items = [
        MessageCreate(
            source=chat[:32], chat_id=chat, external_id=str(i), text=t, reply_to_external_id=reply_to
        )
        for i, t in enumerate(texts)
    ]
    with session_scope(engine) as session:
        result, _ = ingest(session, items)
    return [r.message.id or 0 for r in result]


def rows(engine: Engine, sql: str, **params: object) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql), params).all())


async def run(
    ids: list[int], engine: Engine, settings: Settings, classifier: ScriptedClassifier
) -> Published:
    published = Published()
    await classify_messages(ids, engine=engine, settings=settings, classifier=classifier, publish=published)
    return published


async def test_repeated_delivery_keeps_one_issue_and_one_task(engine: Engine, settings: Settings) -> None:
    ids = store(engine, ["checkout fails with 500", "ok thanks", "please add Olena to staging"])
    classifier = ScriptedClassifier()
    await run(ids, engine, settings, classifier)
    links_before = rows(
        engine, "SELECT task_id, message_id, role FROM task_messages WHERE message_id = ANY(:ids)", ids=ids
    )
    await run(ids, engine, settings, classifier)
    await asyncio.gather(*(run(ids, engine, settings, classifier) for _ in range(3)))
    issues = rows(
        engine, "SELECT message_id, count(*) FROM issues WHERE message_id = ANY(:ids) GROUP BY 1", ids=ids
    )
    assert sorted(n for _, n in issues) == [1, 1, 1]
    links = rows(
        engine, "SELECT task_id, message_id, role FROM task_messages WHERE message_id = ANY(:ids)", ids=ids
    )
    assert sorted(links) == sorted(links_before)  # nothing attached twice, nothing new opened
    sources = [link.message_id for link in links if link.role == "source"]
    assert sources and set(sources) <= {ids[0], ids[2]}
    assert len(sources) == len(set(sources))


async def test_unreachable_llm_keeps_messages_pending_then_classifies(
    engine: Engine, settings: Settings
) -> None:
    ids = store(engine, ["login fails after update", "how do I reset my key?"])
    down = ScriptedClassifier(unavailable=True)
    await run(ids, engine, settings, down)
    waiting = rows(
        engine, "SELECT status, attempts, next_attempt_at FROM messages WHERE id = ANY(:ids)", ids=ids
    )
    assert {r.status for r in waiting} == {"pending"} and {r.attempts for r in waiting} == {1}
    assert rows(engine, "SELECT 1 FROM issues WHERE message_id = ANY(:ids)", ids=ids) == []
    due_again = "SELECT count(*) FROM messages WHERE id = ANY(:ids) AND next_attempt_at <= now()"
    wait_until(lambda: rows(engine, due_again, ids=ids)[0][0] == len(ids), what="the retry time")
    with session_scope(engine) as session:
        due = claim_due(session, lease_seconds=30)
    assert set(ids) <= set(due)
    await run(ids, engine, settings, ScriptedClassifier())
    done = rows(engine, "SELECT status FROM messages WHERE id = ANY(:ids)", ids=ids)
    assert {r.status for r in done} == {"classified"}


async def test_failed_output_is_recorded_not_labelled(engine: Engine, settings: Settings) -> None:
    [mid] = store(engine, ["the export fails"])
    await run([mid], engine, settings, ScriptedClassifier(fail_ids={str(mid)}))
    [issue] = rows(engine, "SELECT kind, error FROM issues WHERE message_id = :m", m=mid)
    assert issue.kind is None and "validation" in issue.error
    assert rows(engine, "SELECT status FROM messages WHERE id = :m", m=mid)[0].status == "failed"
    assert rows(engine, "SELECT 1 FROM task_messages WHERE message_id = :m", m=mid) == []


async def test_edit_reclassifies_and_updates_task(engine: Engine, settings: Settings) -> None:
    [mid] = store(engine, ["please add Olena to staging"])
    await run([mid], engine, settings, ScriptedClassifier())
    [(chat, ext)] = rows(engine, "SELECT chat_id, external_id FROM messages WHERE id = :m", m=mid)
    with Session(engine) as session:
        apply_edit(session, chat[:32], chat, ext, "staging deploy fails since 10:00")
        session.commit()
    published = await run([mid], engine, settings, ScriptedClassifier())
    current = rows(engine, "SELECT kind, revision FROM issues WHERE message_id = :m AND is_current", m=mid)
    assert [(c.kind, c.revision) for c in current] == [("bug", 2)]
    assert len(rows(engine, "SELECT 1 FROM issues WHERE message_id = :m", m=mid)) == 2
    [task] = rows(
        engine,
        "SELECT t.kind FROM tasks t JOIN task_messages l ON l.task_id = t.id WHERE l.message_id = :m",
        m=mid,
    )
    assert task.kind == "bug"
    assert "task.updated" in [e["type"] for e in published]


async def test_plus_one_reply_joins_parent_task(engine: Engine, settings: Settings) -> None:
    chat = uuid.uuid4().hex
    items = [
        MessageCreate(source=chat[:32], chat_id=chat, external_id="1", text="checkout fails"),
        MessageCreate(
            source=chat[:32], chat_id=chat, external_id="2", text="у мене теж", reply_to_external_id="1"
        ),
    ]
    with session_scope(engine) as session:
        result, _ = ingest(session, items)
    ids = [r.message.id or 0 for r in result]
    await run(ids, engine, settings, ScriptedClassifier())
    links = rows(
        engine,
        "SELECT task_id, role FROM task_messages WHERE message_id = ANY(:ids) ORDER BY role DESC",
        ids=ids,
    )
    assert [link.role for link in links] == ["source", "plus_one"]
    assert links[0].task_id == links[1].task_id
    [task] = rows(engine, "SELECT reporters FROM tasks WHERE id = :t", t=links[0].task_id)
    assert task.reporters == 2
