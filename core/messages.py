"""Reading stored messages with their current classification."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, or_
from sqlmodel import Session, col, select

from core.models import Issue, Message, MessageStatus
from core.schemas import IssuePublic, MessagePublic


@dataclass
class MessageFilter:
    chat_id: str | None = None
    status: MessageStatus | None = None
    search: str | None = None
    thread_of: int | None = None
    """A message id: that message, its parent and its replies."""


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
    if flt.status:
        conditions.append(col(Message.status) == flt.status)
    if flt.search:
        conditions.append(col(Message.text).ilike(f"%{flt.search}%"))
    if flt.thread_of is not None:
        parent = select(Message.reply_to_id).where(Message.id == flt.thread_of).scalar_subquery()
        conditions.append(
            or_(
                col(Message.id) == flt.thread_of,
                col(Message.reply_to_id) == flt.thread_of,
                col(Message.id) == parent,
            )
        )
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
