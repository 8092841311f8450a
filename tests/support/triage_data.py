"""Triaged messages in the database: stored messages, some replying to others, each with a human label."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Engine
from sqlmodel import Session

from core.db import session_scope
from core.models import Kind, Label, Message, Priority

PARENT = "after the update the login page fails for everyone"
TRIAGED: list[tuple[str, Kind, str | None]] = [
    ("checkout fails with 500 since 10:00", Kind.bug, None),
    ("the export fails on large files", Kind.bug, None),
    ("sign-in fails after the update", Kind.bug, None),
    ("the invoice page fails to load", Kind.bug, None),
    ("my wish: a dark theme for the dashboard", Kind.feature, None),
    ("wish we had CSV export", Kind.feature, None),
    ("I wish the search had a date filter", Kind.feature, None),
    ("how do I reset my API key?", Kind.question, None),
    ("how does the billing cycle work?", Kind.question, None),
    ("how can I invite a colleague?", Kind.question, None),
    ("please add Olena to the staging project", Kind.task, None),
    ("please add the release notes to the wiki", Kind.task, None),
    ("please add a backup job for the new server", Kind.task, None),
    ("thanks!", Kind.noise, None),
    ("same here", Kind.noise, PARENT),
    ("good morning all", Kind.noise, None),
]
"""Texts the keyword stand-ins (tests.support.classifiers.keyword_kind) label correctly."""


def add_triaged(
    engine: Engine, rows: Sequence[tuple[str, Kind, str | None]] = TRIAGED, chat: str = "support"
) -> list[int]:
    """Store each message (and the one it replies to) with a human label; returns the message ids."""
    ids = []
    with session_scope(engine) as session:
        for text, kind, reply_to in rows:
            parent_id = _store(session, reply_to, chat).id if reply_to else None
            message = _store(session, text, chat, reply_to_id=parent_id)
            priority = None if kind == Kind.noise else Priority.medium
            session.add(Label(message_id=message.id or 0, kind=kind, priority=priority, action="correct",
                              origin="dashboard", author="Olena"))  # fmt: skip
            ids.append(message.id or 0)
    return ids


def _store(session: Session, text: str, chat: str, reply_to_id: int | None = None) -> Message:
    message = Message(source="test", chat_id=chat, external_id=uuid.uuid4().hex, text=text,
                      reply_to_id=reply_to_id)  # fmt: skip
    session.add(message)
    session.flush()
    return message
