"""Classification pipeline: classify messages, store one current issue each, open tasks.

Every step is idempotent: a redelivered or repeated batch ends with one current issue
per message revision and at most one task per source message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, text, update
from sqlmodel import Session, col, select

from core import events
from core.classification.types import Classifier, LLMUnavailable, MessageInput, Outcome
from core.config import Settings
from core.db import session_scope
from core.models import (
    ACTIONABLE_KINDS,
    PRIORITY_RANK,
    Issue,
    Kind,
    Message,
    MessageStatus,
    Priority,
    Task,
    TaskMessage,
    TaskMessageRole,
    TaskStatus,
    utcnow,
)
from core.triage.commands import task_payload

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
    ids = [d.id for d in due]
    currents = _current_issues(session, ids)
    source_tasks = _source_tasks(session, ids)
    for item, outcome in zip(due, outcomes, strict=True):
        message = locked.get(item.id)
        current = currents.get(item.id)
        if message is None or message.revision != item.revision or _settled(current, item, outcome):
            report.skipped.append(item.id)
            continue
        issue = _write_issue(session, message, current, outcome)
        _update_message_state(settings, message, outcome)
        session.add(message)
        pending_events.append((events.MESSAGE_CLASSIFIED, _classified_payload(message, issue)))
        pending_events.extend(_sync_task(session, message, issue, source_tasks.get(item.id)))
        report.classified.append(item.id)
    session.flush()
    return events.record_events(session, pending_events), report


def _current_issues(session: Session, message_ids: list[int]) -> dict[int, Issue]:
    """The current issue of each message that has one (one query for the batch)."""
    rows = session.exec(
        select(Issue).where(col(Issue.message_id).in_(message_ids), col(Issue.is_current).is_(True))
    )
    return {issue.message_id: issue for issue in rows}


def _source_tasks(session: Session, message_ids: list[int]) -> dict[int, Task]:
    """The task each message opened, if any (one query for the batch)."""
    rows = session.exec(
        select(TaskMessage.message_id, Task)
        .join(Task, col(Task.id) == TaskMessage.task_id)
        .where(col(TaskMessage.message_id).in_(message_ids), TaskMessage.role == TaskMessageRole.source)
    )
    return {message_id: task for message_id, task in rows}


def _settled(current: Issue | None, item: _Due, outcome: Outcome) -> bool:
    """True when a final classification of this revision is already stored."""
    if current is None or current.revision != item.revision:
        return False
    return not current.needs_review or outcome.needs_review


def _write_issue(session: Session, message: Message, current: Issue | None, outcome: Outcome) -> Issue:
    if current is not None:
        session.execute(update(Issue).where(col(Issue.id) == current.id).values(is_current=False))
    result = outcome.result.normalized() if outcome.result else None
    issue = Issue(
        message_id=message.id or 0,
        revision=message.revision,
        **(result.model_dump() if result else {}),
        **outcome.provenance(),
    )
    session.add(issue)
    return issue


def _update_message_state(settings: Settings, message: Message, outcome: Outcome) -> None:
    message.status = MessageStatus.classified if outcome.result else MessageStatus.failed
    message.last_error = outcome.error
    if outcome.needs_review:
        message.attempts += 1
        delay = backoff_seconds(settings, message.attempts)
        message.next_attempt_at = utcnow() + timedelta(seconds=delay)
    else:
        message.next_attempt_at = None


def _sync_task(
    session: Session, message: Message, issue: Issue, task: Task | None
) -> list[tuple[str, dict[str, Any]]]:
    """Open a task for an actionable message, or bring its task in line after an edit."""
    if issue.kind is None:
        return []
    if task is None:
        if issue.kind == Kind.noise:
            return _link_duplicate(session, message)
        if issue.kind not in ACTIONABLE_KINDS:
            return []
        return [
            (
                events.TASK_CREATED,
                task_payload(_open_task(session, message, issue), [message.id or 0]),
            )
        ]
    if task.status != TaskStatus.new:
        return []
    changed = _apply_issue(task, issue)
    if not changed:
        return []
    task.version += 1
    task.updated_at = utcnow()
    session.add(task)
    return [(events.TASK_UPDATED, task_payload(task))]


def _open_task(session: Session, message: Message, issue: Issue) -> Task:
    priority = Priority(issue.priority or Priority.medium)
    task = Task(
        title=issue.title or message.text[:80],
        description=message.text,
        kind=issue.kind or Kind.task,
        priority=priority,
        priority_rank=PRIORITY_RANK[priority],
        chat_id=message.chat_id,
        confidence=issue.confidence,
        needs_review=issue.needs_review,
    )
    session.add(task)
    session.flush()
    session.add(TaskMessage(task_id=task.id or 0, message_id=message.id or 0, role=TaskMessageRole.source))
    return task


def _apply_issue(task: Task, issue: Issue) -> bool:
    """Copy a changed classification onto a task nobody has triaged yet."""
    if issue.kind == Kind.noise:
        new = {"status": TaskStatus.rejected, "needs_review": issue.needs_review}
    else:
        new = {
            "kind": issue.kind,
            "priority": issue.priority,
            "priority_rank": PRIORITY_RANK[issue.priority or "medium"],  # type: ignore[index]
            "title": issue.title or task.title,
            "confidence": issue.confidence,
            "needs_review": issue.needs_review,
        }
    changed = {k: v for k, v in new.items() if getattr(task, k) != v}
    for key, value in changed.items():
        setattr(task, key, value)
    return bool(changed)


def _link_duplicate(session: Session, message: Message) -> list[tuple[str, dict[str, Any]]]:
    """A "+1" reply to a message with a task joins that task as a duplicate signal."""
    if message.reply_to_id is None:
        return []
    parent = session.exec(
        select(TaskMessage).where(
            TaskMessage.message_id == message.reply_to_id, TaskMessage.role == TaskMessageRole.source
        )
    ).first()
    if parent is None or session.get(TaskMessage, (parent.task_id, message.id)) is not None:
        return []
    session.add(
        TaskMessage(task_id=parent.task_id, message_id=message.id or 0, role=TaskMessageRole.duplicate)
    )
    session.flush()
    task = session.get(Task, parent.task_id)
    return [(events.TASK_UPDATED, task_payload(task))] if task else []


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
