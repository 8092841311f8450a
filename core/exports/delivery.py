"""The worker's side: claim an export under a lease, call its target, record what happened.

Exactly once: the row exists before the call; a claimed row is left alone by other workers
until its lease ends; before creating, the target is searched for our marker (a crash or a
timeout after the target's create finds the issue instead of making a second one).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, text
from sqlmodel import Session

from core import events
from core.config import Settings
from core.db import session_scope
from core.exports.document import Document, build, merged_into
from core.exports.queries import exports_of
from core.exports.target import ExportError, Refused, Remote, Retryable, TargetConfig
from core.exports.targets import config_of, get_target, open_target
from core.exports.vault import Vault
from core.models import ExportStatus, Task, TaskExport, utcnow

Publish = Callable[[list[dict[str, Any]]], Awaitable[None]]
MAX_ATTEMPTS = 25
"""Retries of timeouts, 5xx and 429 before the export is failed (hours, with the backoff cap)."""

_CLAIM = text(
    """
    UPDATE task_exports SET leased_until = now() + make_interval(secs => :lease), attempts = attempts + 1
    WHERE id = :id AND status = 'pending' AND (leased_until IS NULL OR leased_until < now())
    RETURNING id
    """
)
_DUE = text(
    """
    UPDATE task_exports SET next_attempt_at = now() + make_interval(secs => :lease)
    WHERE id IN (
        SELECT id FROM task_exports
        WHERE status = 'pending' AND next_attempt_at <= now()
          AND (leased_until IS NULL OR leased_until < now())
        ORDER BY next_attempt_at LIMIT :limit FOR UPDATE SKIP LOCKED)
    RETURNING id
    """
)


@dataclass
class Courier:
    """What a delivery needs: the database, the settings, the key, one HTTP client, the event bus."""

    engine: Engine
    settings: Settings
    vault: Vault
    client: httpx.AsyncClient
    publish: Publish


@dataclass(frozen=True)
class Job:
    export_id: int
    task_id: int
    version: int
    config: TargetConfig
    document: Document
    remote: Remote | None


async def deliver(export_id: int, courier: Courier) -> str:
    """Perform one export (or its update); returns its status afterwards ("busy": another has it)."""
    job = await asyncio.to_thread(in_session, courier.engine, lambda s: claim(s, export_id, courier))
    if not isinstance(job, Job):
        await courier.publish(job)
        return "busy" if not job else ExportStatus.failed
    try:
        remote: Remote | ExportError = await push(job, courier.client)
    except ExportError as exc:
        remote = exc
    status, new_events = await asyncio.to_thread(
        in_session, courier.engine, lambda s: record(s, courier.settings, job, remote)
    )
    await courier.publish(new_events)
    return status


def claim(session: Session, export_id: int, courier: Courier) -> Job | list[dict[str, Any]]:
    """Lease the export and read what to send; an export that cannot be sent is failed here."""
    if session.execute(_CLAIM, {"id": export_id, "lease": courier.settings.export_lease}).first() is None:
        return []
    row = session.get(TaskExport, export_id)
    task = session.get(Task, row.task_id) if row else None
    assert row is not None and task is not None  # the foreign key
    stored = get_target(session, row.target)
    try:
        if task.merged_into_id is not None and not row.external_id:
            raise Refused(f"task {task.id} was merged into task {task.merged_into_id} before its export")
        if stored is None:
            raise Refused(f"target {row.target!r} no longer exists")
        config = config_of(stored, courier.vault)
    except (Refused, ValueError) as exc:
        return _finish(session, row, task, ExportStatus.failed, str(exc))
    remote = Remote(row.external_id, row.url) if row.external_id else None
    return Job(export_id, task.id or 0, task.version, config, _document(session, courier, task, row), remote)


def _document(session: Session, courier: Courier, task: Task, row: TaskExport) -> Document:
    """What the target gets: the task, or for a task merged into another since its export, its
    issue closed as a duplicate of the survivor's."""
    doc = build(session, task, row.marker, _link(courier, task.id or 0))
    if task.merged_into_id is None:
        return doc
    return merged_into(doc, task.merged_into_id, _link(courier, task.merged_into_id))


def _link(courier: Courier, task_id: int) -> str:
    return f"{courier.settings.dashboard_url}/task?task={task_id}"


async def push(job: Job, client: httpx.AsyncClient) -> Remote:
    """Bring the target up to date: update our issue, or find it by marker, or create it."""
    target = open_target(job.config, client)
    remote = job.remote or await target.find(job.document)
    if remote is None:
        return await target.create(job.document)
    await target.update(remote, job.document)
    return remote


def record(
    session: Session, settings: Settings, job: Job, outcome: Remote | ExportError
) -> tuple[str, list[dict[str, Any]]]:
    """Store the call's outcome: exported (pending again if the task changed since), a retry, or failed."""
    row = session.get(TaskExport, job.export_id, with_for_update=True)
    task = session.get(Task, row.task_id) if row else None
    assert row is not None and task is not None
    if isinstance(outcome, Remote):
        moved = row.task_id != job.task_id  # merged into another task during the call: send the survivor
        row.external_id, row.url, row.synced_version = (
            outcome.external_id,
            outcome.url,
            0 if moved else job.version,
        )
        status = ExportStatus.exported if task.version <= job.version and not moved else ExportStatus.pending
        return status, _finish(session, row, task, status)
    if isinstance(outcome, Retryable) and row.attempts < MAX_ATTEMPTS:
        delay = outcome.retry_after if outcome.retry_after is not None else backoff(settings, row.attempts)
        row.next_attempt_at = utcnow() + timedelta(seconds=min(delay, settings.export_retry_max))
        return ExportStatus.pending, _finish(
            session, row, task, ExportStatus.pending, str(outcome), wait=True
        )
    return ExportStatus.failed, _finish(session, row, task, ExportStatus.failed, str(outcome))


def backoff(settings: Settings, attempts: int) -> float:
    return float(min(settings.export_retry_base * 2 ** max(attempts - 1, 0), settings.export_retry_max))


def _finish(
    session: Session,
    row: TaskExport,
    task: Task,
    status: ExportStatus,
    error: str | None = None,
    *,
    wait: bool = False,
) -> list[dict[str, Any]]:
    """Release the lease with the new status; announce it as a task.updated with the exports."""
    row.status, row.last_error, row.leased_until, row.updated_at = status, error, None, utcnow()
    if not wait:
        row.next_attempt_at = utcnow() if status == ExportStatus.pending else None
    session.add(row)
    session.flush()
    payload = {
        **events.task_payload(task),
        "exports": [e.model_dump(mode="json") for e in exports_of(session, task.id or 0)],
    }
    return [events.record_event(session, events.TASK_UPDATED, payload)]


def claim_due_exports(session: Session, lease_seconds: float, limit: int = 500) -> list[int]:
    """Exports whose time has come (new ones whose queue message was lost, retries, crashed calls)."""
    return sorted(session.execute(_DUE, {"lease": lease_seconds, "limit": limit}).scalars())


def in_session(engine: Engine, work: Callable[[Session], Any]) -> Any:
    with session_scope(engine) as session:
        return work(session)
