"""Replaying a conversations data set through the real system, as its messages would arrive live.

Each message in time order is stored by ingestion (chat, author, time, reply link, topic)
and, when new, classified by the pipeline, which opens and updates tasks as it does for the
worker. The tasks are then read back and scored against the gold tasks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, text
from sqlmodel import Session

from core.classification.types import Classifier, MessageInput
from core.config import Settings
from core.conversations.training import Labelled
from core.db import create_database, drop_database, make_engine, session_scope
from core.evaluation.conversations import ChatMessage, Conversations, SystemTask
from core.evaluation.conversations_score import ConversationScore, score
from core.messages.ingest import Ingested, ingest
from core.models import ACTIONABLE_KINDS, MessageStatus
from core.schemas import MessageCreate
from core.triage.pipeline import classify_messages

SOURCE = "eval"
"""The source the replayed messages are stored under."""

_TASKS = text(
    """
    WITH RECURSIVE held(id) AS (
        SELECT task_id FROM task_messages WHERE message_id = ANY(:ids)
        UNION
        SELECT t.merged_into_id FROM tasks t JOIN held ON t.id = held.id WHERE t.merged_into_id IS NOT NULL)
    SELECT t.id, t.kind, t.priority, t.status, t.assignee, t.merged_into_id, t.title,
           array_remove(array_agg(tm.message_id), NULL) AS messages
    FROM tasks t JOIN held USING (id)
    LEFT JOIN task_messages tm ON tm.task_id = t.id AND tm.message_id = ANY(:ids)
    GROUP BY t.id ORDER BY t.id
    """
)
_ROLES = text("SELECT message_id, role FROM task_messages WHERE message_id = ANY(:ids) ORDER BY task_id")
_LLM_CALLS = text("SELECT coalesce(sum(llm_calls), 0) FROM issues WHERE message_id = ANY(:ids)")


def in_time_order(messages: Iterable[ChatMessage]) -> list[ChatMessage]:
    """The messages by the time they were sent (file order among equal times)."""
    return sorted(messages, key=lambda m: m.sent_at)


def incoming(message: ChatMessage) -> MessageCreate:
    """A data set message as the API would receive it (a forum topic is its thread)."""
    return MessageCreate(
        source=SOURCE, chat_id=message.chat_id, external_id=message.id, text=message.text,
        chat_title=message.chat_title, author_id=message.author_id, author=message.author,
        sent_at=message.sent_at, reply_to_external_id=message.reply_to,
        thread_id=message.topic, thread_title=message.topic,
    )  # fmt: skip


async def _unannounced(new_events: list[dict[str, Any]]) -> None:
    """A replay has no listeners: its events stay in the outbox."""


def _receive(engine: Engine, item: MessageCreate) -> Ingested:
    with session_scope(engine) as session:
        [received], _ = ingest(session, [item])
    return received


async def replay(
    messages: Iterable[ChatMessage], *, engine: Engine, settings: Settings, classifier: Classifier
) -> dict[str, int]:
    """Store and classify the messages one at a time in time order; data set id -> message row id."""
    stored: dict[str, int] = {}
    for message in in_time_order(messages):
        received = await asyncio.to_thread(_receive, engine, incoming(message))
        row_id = received.message.id or 0
        stored[message.id] = row_id
        if received.created and received.message.status == MessageStatus.pending:
            await classify_messages(
                [row_id], engine=engine, settings=settings, classifier=classifier, publish=_unannounced
            )
    return stored


def system_tasks(session: Session, stored: dict[str, int]) -> tuple[list[SystemTask], int]:
    """The tasks holding the stored messages (and those they were merged into), in the order
    they were opened, with the LLM calls spent on the messages."""
    data_id = {row_id: message_id for message_id, row_id in stored.items()}
    params = {"ids": sorted(data_id)}
    tasks = [
        SystemTask(id=r.id, messages=frozenset(data_id[m] for m in r.messages), kind=r.kind,
                   priority=r.priority, status=r.status, assignee=r.assignee, merged_into=r.merged_into_id,
                   title=r.title)
        for r in session.execute(_TASKS, params)
    ]  # fmt: skip
    return tasks, int(session.execute(_LLM_CALLS, params).scalar_one())


def message_roles(session: Session, stored: dict[str, int]) -> dict[str, str]:
    """Each stored message's role (report, detail, +1, ...) in the first task holding it."""
    data_id = {row_id: message_id for message_id, row_id in stored.items()}
    roles: dict[str, str] = {}
    for row_id, role in session.execute(_ROLES, {"ids": sorted(data_id)}):
        roles.setdefault(data_id[row_id], role)
    return roles


async def evaluate_conversations(
    data: Conversations, *, engine: Engine, settings: Settings, classifier: Classifier
) -> ConversationScore:
    """Replay the data set's messages into the database behind `engine` and score the tasks."""
    stored = await replay(data.messages, engine=engine, settings=settings, classifier=classifier)

    def read_back() -> tuple[list[SystemTask], int]:
        with session_scope(engine) as session:
            return system_tasks(session, stored)

    tasks, llm_calls = await asyncio.to_thread(read_back)
    return score(data.gold_tasks, tasks, llm_calls)


@contextmanager
def scratch_database(server_url: str) -> Iterator[Engine]:
    """An engine on a fresh migrated database of the server, dropped afterwards: a replay's
    tasks never reach anyone's inbox."""
    url = create_database(server_url, "tracker_eval")
    try:
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()
    finally:
        drop_database(server_url, url)


async def labelled_messages(data: Conversations, classifier: Classifier) -> list[Labelled]:
    """The data set's messages as the conversation scorer's training examples: each with its
    gold task as its conversation and the classifier's view of whether it is actionable."""
    messages = in_time_order(data.messages)
    parents = {m.id: m.text for m in messages}
    outcomes = await classifier.classify(
        [MessageInput(m.id, m.text, parents.get(m.reply_to or "")) for m in messages]
    )
    return [
        Labelled(id=m.id, chat_id=m.chat_id, sent_at=m.sent_at, author_id=m.author_id, author=m.author,
                 text=m.text, thread_id=m.topic, reply_to=m.reply_to, group=m.task,
                 actionable=bool(o.result and o.result.kind in ACTIONABLE_KINDS),
                 kind=o.result.kind if o.result else None)
        for m, o in zip(messages, outcomes, strict=True)
    ]  # fmt: skip
