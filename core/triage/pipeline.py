"""Classification pipeline: classify messages, store one current issue each, open tasks.

Every step is idempotent: a redelivered or repeated batch ends with one current issue
per message revision and at most one task per source message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, text, update
from sqlmodel import Session, col, select

from core import events
from core.classification.types import Classifier, LLMUnavailable, MessageInput, Outcome
from core.config import Settings
from core.conversations.placement import Placing
from core.conversations.store import sent_at
from core.db import session_scope
from core.exports.plan import on_task_events
from core.models import (
    Issue,
    Message,
    MessageStatus,
    utcnow,
)

Publish = Callable[[list[dict[str, Any]]], Awaitable[None]]


@dataclass
class BatchReport:
    classified: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Due:
    id: int
    revision: int
    input: MessageInput


def backoff_seconds(settings: Settings, attempts: int) -> float:
    return float(min(settings.retry_base_seconds * 2 ** max(attempts - 1, 0), settings.retry_max_seconds))


def load_due(session: Session, ids: list[int]) -> list[_Due]:
    """The messages among `ids` that still need a classification of their revision."""
    rows = session.execute(
        text(
            """
            SELECT m.id, m.revision, m.text, p.text AS reply_text
            FROM messages m
            LEFT JOIN messages p ON p.id = m.reply_to_id
            LEFT JOIN issues i ON i.message_id = m.id AND i.is_current
            WHERE m.id = ANY(:ids) AND m.status <> 'skipped'
              AND (i.id IS NULL OR i.revision <> m.revision OR i.needs_review
                   OR m.status = 'pending')
            ORDER BY m.id
            """
        ),
        {"ids": ids},
    ).all()
    return [_Due(r.id, r.revision, MessageInput(str(r.id), r.text, r.reply_text)) for r in rows]


def defer(session: Session, settings: Settings, ids: list[int], error: str) -> None:
    """Keep messages waiting (pending, or classified pending review) and schedule a retry."""
    for message in session.exec(select(Message).where(col(Message.id).in_(ids)).with_for_update()):
        message.attempts += 1
        message.last_error = error[:2000]
        delay = backoff_seconds(settings, message.attempts)
        message.next_attempt_at = utcnow() + timedelta(seconds=delay)
        session.add(message)


def store_outcomes(
    session: Session, settings: Settings, due: list[_Due], outcomes: list[Outcome]
) -> tuple[list[dict[str, Any]], BatchReport]:
    """Write issues and tasks for a classified batch, in the caller's transaction."""
    report = BatchReport()
    pending_events: list[tuple[str, dict[str, Any]]] = []
    locked = {
        m.id: m
        for m in session.exec(
            select(Message).where(col(Message.id).in_([d.id for d in due])).with_for_update()
        )
    }
    currents = _current_issues(session, [d.id for d in due])
    placing, issues = Placing(session, list(locked.values())), []
    for item, outcome in in_sent_order(due, outcomes, locked):
        message = locked.get(item.id)
        current = currents.get(item.id)
        if message is None or message.revision != item.revision or _settled(current, item, outcome):
            report.skipped.append(item.id)
            continue
        issue = _write_issue(session, message, current, outcome)
        issues.append(issue)
        _update_message_state(settings, message, outcome)
        session.add(message)
        pending_events.append((events.MESSAGE_CLASSIFIED, _classified_payload(message, issue)))
        pending_events.extend(placing.place(message, issue))
        report.classified.append(item.id)
    placing.finish()
    _insert_issues(session, issues)
    session.flush()
    queued = on_task_events(session, pending_events)  # after the flush: no flush per message
    return events.record_events(session, pending_events) + queued, report


def in_sent_order(
    due: list[_Due], outcomes: list[Outcome], messages: dict[int | None, Message]
) -> list[tuple[_Due, Outcome]]:
    """The batch in the order its messages were sent: conversations grow as the chat did."""

    def when(pair: tuple[_Due, Outcome]) -> tuple[datetime, int]:
        message = messages.get(pair[0].id)
        return (sent_at(message) if message else utcnow(), pair[0].id)

    return sorted(zip(due, outcomes, strict=True), key=when)


def _current_issues(session: Session, message_ids: list[int]) -> dict[int, Issue]:
    """The current issue of each message that has one (one query for the batch)."""
    rows = session.exec(
        select(Issue).where(col(Issue.message_id).in_(message_ids), col(Issue.is_current).is_(True))
    )
    return {issue.message_id: issue for issue in rows}


def _settled(current: Issue | None, item: _Due, outcome: Outcome) -> bool:
    """True when a final classification of this revision is already stored."""
    if current is None or current.revision != item.revision:
        return False
    return not current.needs_review or outcome.needs_review


def _write_issue(session: Session, message: Message, current: Issue | None, outcome: Outcome) -> Issue:
    """The message's new current issue (the old one no longer current), as a plain value:
    `_insert_issues` stores the batch's issues in one statement."""
    if current is not None:
        session.execute(update(Issue).where(col(Issue.id) == current.id).values(is_current=False))
    result = outcome.result.normalized() if outcome.result else None
    # Built without validation (the values are the classifier's validated result) and never
    # added to the session: a tenth of what constructing a table model costs.
    return Issue.model_construct(
        message_id=message.id or 0,
        revision=message.revision,
        **(result.model_dump() if result else {}),
        **outcome.provenance(),
    )


_ISSUE_COLUMNS = [column.name for column in Issue.__table__.columns if column.name != "id"]  # type: ignore[attr-defined]


def _insert_issues(session: Session, issues: list[Issue]) -> None:
    """Insert the batch's issues: one prepared statement, executed for each (no ORM objects)."""
    if issues:
        rows = [{name: getattr(issue, name) for name in _ISSUE_COLUMNS} for issue in issues]
        session.connection().execute(insert(Issue.__table__), rows)  # type: ignore[attr-defined]


def _update_message_state(settings: Settings, message: Message, outcome: Outcome) -> None:
    message.status = MessageStatus.classified if outcome.result else MessageStatus.failed
    message.last_error = outcome.error
    if outcome.needs_review:
        message.attempts += 1
        delay = backoff_seconds(settings, message.attempts)
        message.next_attempt_at = utcnow() + timedelta(seconds=delay)
    else:
        message.next_attempt_at = None


def _classified_payload(message: Message, issue: Issue) -> dict[str, Any]:
    return {
        "message_id": message.id,
        "chat_id": message.chat_id,
        "status": message.status,
        "kind": issue.kind,
        "priority": issue.priority,
        "title": issue.title,
        "confidence": issue.confidence,
        "classifier": issue.classifier,
        "needs_review": issue.needs_review,
        "error": issue.error,
    }


async def classify_messages(
    ids: list[int], *, engine: Engine, settings: Settings, classifier: Classifier, publish: Publish
) -> BatchReport:
    """Classify and store the due messages among `ids`; defer them if the LLM is away."""
    due = await asyncio.to_thread(_in_session, engine, lambda s: load_due(s, ids))
    if not due:
        return BatchReport(skipped=list(ids))
    try:
        outcomes = await classifier.classify([d.input for d in due])
    except LLMUnavailable as exc:
        reason = str(exc) or type(exc).__name__
        await asyncio.to_thread(
            _in_session, engine, lambda s: defer(s, settings, [d.id for d in due], reason)
        )
        return BatchReport(deferred=[d.id for d in due])
    new_events, report = await asyncio.to_thread(
        _in_session, engine, lambda s: store_outcomes(s, settings, due, outcomes)
    )
    await publish(new_events)
    return report


def _in_session(engine: Engine, work: Callable[[Session], Any]) -> Any:
    with session_scope(engine) as session:
        return work(session)


def claim_due(session: Session, lease_seconds: float, limit: int = 500) -> list[int]:
    """Take messages whose retry time has come (pending, or awaiting LLM review)."""
    rows = session.execute(
        text(
            """
            UPDATE messages SET next_attempt_at = now() + make_interval(secs => :lease)
            WHERE id IN (
                SELECT id FROM messages
                WHERE status IN ('pending', 'classified') AND next_attempt_at <= now()
                ORDER BY next_attempt_at LIMIT :limit FOR UPDATE SKIP LOCKED)
            RETURNING id
            """
        ),
        {"lease": lease_seconds, "limit": limit},
    ).scalars()
    return sorted(rows)
