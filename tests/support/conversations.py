"""A chat written line by line for conversation tests: who says what, when, replying to what,
and what the (scripted) classifier says of it. Lines go through ingestion and the real
pipeline one at a time, in time order, as they would arrive live."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, text

from core.classification.types import Classification, MessageInput, Outcome
from core.config import Settings
from core.db import session_scope
from core.messages.ingest import ingest
from core.models import Kind, Priority
from core.schemas import MessageCreate
from core.triage.pipeline import classify_messages

START = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Line:
    author: str
    minute: float
    text: str
    kind: Kind = Kind.noise
    reply: int | None = None
    """Index of the line it replies to."""
    topic: str | None = None
    priority: Priority = Priority.medium


PUSH_BUG = [
    Line("Kate", 0, "Clients don't get the reminder push on Android since the weekend", Kind.bug),
    Line("Dima", 3, "Какие версии андроида? И версия приложения?", Kind.question, reply=0),
    Line("Kate", 8, "Samsung, Android 14, app 3.0.4", reply=1),
    Line("Andrii", 20, "Це критично, салони втрачають гроші", reply=0),
    Line("Dima", 22, "Беру. Сначала воспроизведу"),
    Line("Dima", 95, "задеплоїв фікс пушів в 3.0.5", reply=0),
]
"""A bug discussed in six messages: reported, asked about, escalated, taken, fixed."""


@dataclass
class Verdicts:
    """The classifier of a test chat: says each line's kind (a scripted stand-in)."""

    by_text: dict[str, Line] = field(default_factory=dict)

    async def classify(self, messages: list[MessageInput]) -> list[Outcome]:
        return [self._one(m) for m in messages]

    def _one(self, message: MessageInput) -> Outcome:
        line = self.by_text.get(message.text, Line("", 0, message.text))
        priority = None if line.kind == Kind.noise else line.priority
        result = Classification(kind=line.kind, priority=priority, title=message.text[:60], confidence=0.9)
        return Outcome(result=result, classifier="local", classifier_version="test")


@dataclass
class Chat:
    """A chat of a source of its own (no other test's tasks are its duplicates)."""

    source: str = field(default_factory=lambda: f"t-{uuid.uuid4().hex[:10]}")
    chat_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    ids: list[int] = field(default_factory=list)

    def incoming(self, index: int, line: Line) -> MessageCreate:
        return MessageCreate(
            source=self.source, chat_id=self.chat_id, external_id=str(index), text=line.text,
            author=line.author, author_id=line.author.lower(), sent_at=START + timedelta(minutes=line.minute),
            reply_to_external_id=None if line.reply is None else str(line.reply), thread_id=line.topic,
        )  # fmt: skip


async def say(engine: Engine, settings: Settings, chat: Chat, lines: list[Line], first: int = 0) -> list[Any]:
    """Store and classify the lines one at a time; returns the events published."""
    verdicts = Verdicts({line.text: line for line in lines})
    published: list[Any] = []

    async def publish(new: list[Any]) -> None:
        published.extend(new)

    for index, line in enumerate(lines, start=first):
        with session_scope(engine) as session:
            [received], _ = ingest(session, [chat.incoming(index, line)])
        chat.ids.append(received.message.id or 0)
        await classify_messages(
            [received.message.id or 0], engine=engine, settings=settings, classifier=verdicts, publish=publish
        )
    return published


def links(engine: Engine, chat: Chat) -> dict[int, tuple[int, str]]:
    """Line index -> (task id, role) for the lines attached to a task."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT message_id, task_id, role FROM task_messages WHERE message_id = ANY(:ids)"),
            {"ids": chat.ids},
        ).all()
    index = {message_id: i for i, message_id in enumerate(chat.ids)}
    return {index[r.message_id]: (r.task_id, r.role) for r in rows}


def tasks(engine: Engine, chat: Chat) -> list[Any]:
    """The tasks holding the chat's messages, in the order they were opened."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT DISTINCT t.* FROM tasks t JOIN task_messages tm ON tm.task_id = t.id "
                    "WHERE tm.message_id = ANY(:ids) ORDER BY t.id"
                ),
                {"ids": chat.ids},
            ).all()
        )


def history(engine: Engine, task_id: int) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT field, old, new, origin, message_id FROM task_changes WHERE task_id = :t ORDER BY id"
                ),
                {"t": task_id},
            ).all()
        )
