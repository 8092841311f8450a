"""The dashboard under test: AppTest on the suite's PostgreSQL and NATS, data to show, events to hear."""

from __future__ import annotations

import asyncio
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import nats
import pytest
import streamlit as st
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from apps.actions import card_key
from core import events
from core.classification.types import Classification, MessageInput, Outcome
from core.config import Settings
from core.db import session_scope
from core.messages.ingest import ingest
from core.models import Kind, Priority, TaskStatus
from core.runtime.queue import events_subject
from core.schemas import MessageCreate
from core.triage.inbox import TaskCard, task_cards
from core.triage.pipeline import classify_messages
from core.triage.queries import TaskFilter

DASHBOARD = Path(__file__).parents[2] / "apps" / "dashboard.py"
PASSWORD = "dashboard-password-42"
TRIAGE, TASKS, TASK, MESSAGES = "views/triage.py", "views/tasks.py", "views/task.py", "views/messages.py"
ANALYTICS, CLASSIFIER = "views/analytics.py", "views/classifier.py"


@contextmanager
def dashboard_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The environment `tracker up` gives the dashboard process, pointing at the suite's servers."""
    env = {
        "TRACKER_DATA_DIR": str(settings.runtime_dir),
        "TRACKER_DATABASE_URL": settings.database_url,
        "TRACKER_NATS_URL": settings.nats_url,
        "TRACKER_QUEUE_NAME": settings.queue_name,
        "TRACKER_DASHBOARD_PASSWORD": PASSWORD,
        "TRACKER_CLASSIFIER": "local",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, str(value))
    st.cache_data.clear()  # a fresh process for every test
    try:
        yield settings
    finally:
        st.cache_resource.clear()  # closes the dashboard's NATS connection


def open_page(page: str, author: str = "Olena", **query: str) -> AppTest:
    """The dashboard, logged in, showing `page` (with the address's `query`, e.g. task="12")."""
    at = AppTest.from_file(str(DASHBOARD), default_timeout=60)
    at.session_state["logged_in"] = True
    at.session_state["author"] = author
    at.run()
    at.query_params.update(query)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def open_task_page(task_id: int, author: str = "Olena") -> AppTest:
    """The task page showing this task, as its link (?task=ID) opens it."""
    return open_page(TASK, author, task=str(task_id))


def texts(at: AppTest) -> str:
    """Everything the screen says, in one string (markdown, captions, notices), escapes removed."""
    parts = [e.value for kind in ("markdown", "caption", "success", "error", "info", "title", "subheader")
             for e in getattr(at, kind)]  # fmt: skip
    return re.sub(r"\\(.)", r"\1", "\n".join(str(p) for p in parts))


@dataclass
class Verdict:
    kind: Kind = Kind.bug
    priority: Priority | None = Priority.medium
    confidence: float = 0.8
    title: str | None = None
    llm_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: float = 0.0


@dataclass
class ChosenClassifier:
    """Says what the test chose for each text; records itself as local model test-1, prompt p-test."""

    verdicts: dict[str, Verdict] = field(default_factory=dict)
    name: str = "local"

    async def classify(self, messages: list[MessageInput]) -> list[Outcome]:
        return [self._one(m) for m in messages]

    def _one(self, message: MessageInput) -> Outcome:
        v = self.verdicts.get(message.text, Verdict())
        result = Classification(
            kind=v.kind, priority=v.priority, title=v.title or message.text, confidence=v.confidence
        )
        return Outcome(
            result=result, classifier=self.name, classifier_version="test-1", model="local:test-1", prompt_version="p-test",
            llm_calls=v.llm_calls, input_tokens=v.input_tokens, output_tokens=v.output_tokens, latency_ms=v.latency_ms,
        )  # fmt: skip


def post(
    engine: Engine, settings: Settings, items: list[MessageCreate], verdicts: dict[str, Verdict] | None = None
) -> list[int]:
    """Store messages and classify them through the real pipeline; returns their ids."""
    with session_scope(engine) as session:
        stored, _ = ingest(session, items)
    ids = [r.message.id or 0 for r in stored]

    async def publish(_: list[dict[str, Any]]) -> None:
        return None

    classifier = ChosenClassifier(verdicts or {})
    asyncio.run(
        classify_messages(ids, engine=engine, settings=settings, classifier=classifier, publish=publish)
    )
    return ids


def message(
    text: str, *, chat: str = "support", external_id: str | None = None, source: str = "test", **extra: Any
) -> MessageCreate:
    fields: dict[str, Any] = {"author": "Olena", "chat_title": f"{chat.title()} chat"} | extra
    return MessageCreate(
        source=source, chat_id=chat, external_id=external_id or uuid.uuid4().hex, text=text, **fields
    )


def new_task(
    engine: Engine,
    settings: Settings,
    text: str,
    *,
    chat: str = "support",
    sent_at: datetime | None = None,
    **verdict: Any,
) -> int:
    """One message that opens one task; returns the task id. Each comes from a source of its
    own: the tests' look-alike reports ("bug number 1", "bug number 2") neither join one
    conversation nor link as duplicates of each other."""
    one = message(text, chat=chat, sent_at=sent_at, source=f"test-{uuid.uuid4().hex[:8]}")
    post(engine, settings, [one], {text: Verdict(**verdict)})
    return task_of(engine, text)


def task_of(engine: Engine, text: str) -> int:
    with engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT tm.task_id FROM task_messages tm JOIN messages m ON m.id = tm.message_id "
            "WHERE m.text = %s AND tm.role = 'source'",
            (text,),
        ).first()
    assert row is not None, f"no task for {text!r}"
    return int(row[0])


def inbox(engine: Engine) -> list[TaskCard]:
    with session_scope(engine) as session:
        return task_cards(session, TaskFilter(status=[TaskStatus.new]), limit=100)[0]


class EventListener:
    """Collects the events published on NATS for the tracker's subject (what the API forwards to /ws)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.received: list[dict[str, Any]] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @contextmanager
    def listening(self) -> Iterator[EventListener]:
        self._thread.start()
        nc = asyncio.run_coroutine_threadsafe(self._subscribe(), self._loop).result(10)
        try:
            yield self
        finally:
            asyncio.run_coroutine_threadsafe(nc.drain(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)

    async def _subscribe(self) -> Any:
        nc = await nats.connect(str(self.settings.nats_url))

        async def on_message(msg: Any) -> None:
            self.received.extend(events.decode(msg.data))

        await nc.subscribe(events_subject(self.settings), cb=on_message)
        await nc.flush()
        return nc

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = next((e for e in list(self.received) if predicate(e)), None)
            if found is not None:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no such event on NATS; got {[e['type'] for e in self.received]}")


def task_row(engine: Engine, task_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.exec_driver_sql("SELECT * FROM tasks WHERE id = %s", (task_id,)).mappings().one()
    return dict(row)


def labels_of(engine: Engine, task_id: int) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT * FROM labels WHERE task_id = %s ORDER BY id", (task_id,)
        ).mappings()
        return [dict(r) for r in rows]


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def open_editing(at: AppTest, task_id: int, version: int = 1) -> AppTest:
    """Open a card's "Correct, assign or merge" expander (its widgets exist only while open)."""
    at.session_state[card_key("edit", task_id, version)] = True
    at.run()
    assert not at.exception, at.exception
    return at
