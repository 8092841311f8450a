"""Reading stored messages with their current classification."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, or_, text
from sqlmodel import Session, col, select

from core.messages.search import message_text_matches
from core.models import Issue, Kind, Message, MessageStatus
from core.schemas import IssuePublic, MessagePublic


@dataclass
class MessageFilter:
    chat_id: str | None = None
    source: str | None = None
    """The channel it came through: telegram, slack, email (or what an API client sent)."""
    status: MessageStatus | None = None
    search: str | None = None
    thread_of: int | None = None
    """A message id: that message, its parent and its replies."""
    kind: Kind | None = None
    """The kind its current classification gave it."""


def _with_issue() -> object:
    return select(Message, Issue).outerjoin(
        Issue, and_(col(Issue.message_id) == Message.id, col(Issue.is_current).is_(True))
    )


def _public(message: Message, issue: Issue | None) -> MessagePublic:
    public = MessagePublic.model_validate(message)
    public.issue = IssuePublic.model_validate(issue) if issue else None
    return public


def list_messages(
    session: Session, flt: MessageFilter, *, limit: int = 50, offset: int = 0
) -> tuple[list[MessagePublic], int]:
    """One page of messages, newest first, and how many match in all."""
    query = _with_issue()
    conditions: list[ColumnElement[bool]] = []
    if flt.chat_id:
        conditions.append(col(Message.chat_id) == flt.chat_id)
    if flt.source:
        conditions.append(col(Message.source) == flt.source)
    if flt.status:
        conditions.append(col(Message.status) == flt.status)
    if flt.search:
        conditions.append(message_text_matches(flt.search))
    if flt.thread_of is not None:
        parent = select(Message.reply_to_id).where(Message.id == flt.thread_of).scalar_subquery()
        conditions.append(
            or_(
                col(Message.id) == flt.thread_of,
                col(Message.reply_to_id) == flt.thread_of,
                col(Message.id) == parent,
            )
        )
    if flt.kind:
        conditions.append(_classified_as(flt.kind))
    query = query.where(*conditions)  # type: ignore[attr-defined]
    count = select(func.count()).select_from(Message).where(*conditions)
    total = session.exec(count).one()
    rows = session.exec(
        query.order_by(col(Message.id).desc()).offset(offset).limit(limit)  # type: ignore[attr-defined]
    ).all()
    return [_public(m, i) for m, i in rows], int(total)


def get_message(session: Session, message_id: int) -> MessagePublic | None:
    row = session.exec(_with_issue().where(Message.id == message_id)).first()  # type: ignore[attr-defined]
    return _public(*row) if row else None


def _classified_as(kind: Kind) -> ColumnElement[bool]:
    """The message's current classification says `kind` (a subquery on issues of its own)."""
    current = select(Issue.id).where(
        col(Issue.message_id) == Message.id, col(Issue.is_current).is_(True), col(Issue.kind) == kind
    )
    return current.correlate(Message).exists()


def messages_by_ids(session: Session, ids: list[int]) -> dict[int, MessagePublic]:
    """These messages with their current classification, by id (unknown ids are left out)."""
    if not ids:
        return {}
    query = _with_issue().where(col(Message.id).in_(ids))  # type: ignore[attr-defined]
    return {m.id: _public(m, i) for m, i in session.exec(query).all()}


CHATS_SQL = text(
    """
    WITH RECURSIVE chats AS (
        (SELECT chat_id FROM messages ORDER BY chat_id LIMIT 1)
        UNION ALL
        SELECT (SELECT m.chat_id FROM messages m WHERE m.chat_id > chats.chat_id ORDER BY m.chat_id LIMIT 1)
        FROM chats WHERE chats.chat_id IS NOT NULL)
    SELECT chat_id, (SELECT m.chat_title FROM messages m
                     WHERE m.chat_id = chats.chat_id AND m.chat_title IS NOT NULL LIMIT 1)
    FROM chats WHERE chat_id IS NOT NULL
    """
)


def list_chats(session: Session) -> dict[str, str | None]:
    """Every chat with messages, by id, with a title where one is known (one index probe per chat)."""
    return {chat_id: title for chat_id, title in session.execute(CHATS_SQL).all()}


SOURCES_SQL = text(
    """
    WITH RECURSIVE sources AS (
        (SELECT source FROM messages ORDER BY source LIMIT 1)
        UNION ALL
        SELECT (SELECT m.source FROM messages m WHERE m.source > sources.source ORDER BY m.source LIMIT 1)
        FROM sources WHERE sources.source IS NOT NULL)
    SELECT source FROM sources WHERE source IS NOT NULL
    """
)


def list_sources(session: Session) -> list[str]:
    """Every channel messages came through (one index probe per channel)."""
    return [source for (source,) in session.execute(SOURCES_SQL).all()]
