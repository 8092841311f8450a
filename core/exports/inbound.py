"""Status coming back: an exported issue closed, reopened or reassigned in the tracker
changes the task (origin `tracker`). The change is recorded as already in that tracker
(no echo); the task's other targets get it as an update.

Redmine is polled for the project's issues updated since the last look (`updated_on`).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from functools import partial
from typing import Any

from sqlmodel import Session, col, select

from core import events
from core.conversations import progress
from core.exports.delivery import Courier, in_session
from core.exports.plan import on_task_change
from core.exports.redmine import Redmine
from core.exports.targets import config_of
from core.models import ChangeOrigin, ExportStatus, ExportTarget, Task, TaskExport, TaskStatus

_OPEN = (TaskStatus.new, TaskStatus.accepted, TaskStatus.in_progress)


def task_values(task: Task, closed: bool, rejected: bool, assignee: str | None) -> dict[str, Any]:
    """What the tracker's state changes about the task: closed -> done (or rejected), reopened
    -> accepted, another assignee."""
    values: dict[str, Any] = {}
    if closed and task.status in _OPEN:
        values["status"] = TaskStatus.rejected if rejected else TaskStatus.done
    elif not closed and task.status in (TaskStatus.done, TaskStatus.rejected):
        values["status"] = TaskStatus.accepted
    if assignee is not None and assignee != task.assignee:
        values["assignee"] = assignee
    return values


def take_back(session: Session, target: str, external_id: str, values_of: Any) -> list[dict[str, Any]]:
    """Apply the tracker's state to the task exported as `external_id`, once."""
    row = session.exec(
        select(TaskExport).where(TaskExport.target == target, TaskExport.external_id == external_id)
    ).first()
    task = session.get(Task, row.task_id, with_for_update=True) if row else None
    if row is None or task is None or not _in_step(row, task):
        return []
    changed = progress.apply(session, task, values_of(task), origin=ChangeOrigin.tracker, author=target)
    if not changed:
        return []
    row.synced_version = task.version  # the tracker has it already: nothing to send back
    session.add(row)
    session.flush()
    recorded = [events.record_event(session, events.TASK_UPDATED, events.task_payload(task))]
    return recorded + on_task_change(session, task, origin=target)


def _in_step(row: TaskExport, task: Task) -> bool:
    """The tracker has our latest (an update of ours still on its way would read as theirs)."""
    return row.status == ExportStatus.exported and row.synced_version == task.version


def redmine_values(issue: dict[str, Any], logins: dict[str, Any]) -> Any:
    status = issue.get("status") or {}
    person = issue.get("assigned_to")
    by_id = {str(v): k for k, v in logins.items()}
    assignee = None if person is None else by_id.get(str(person.get("id")), person.get("name"))
    closed, rejected = bool(status.get("is_closed")), status.get("name") == "Rejected"
    return lambda task: task_values(task, closed, rejected, assignee)


async def poll_redmine(courier: Courier) -> int:
    """One look at every Redmine target's changed issues; returns how many tasks changed."""
    stored = await asyncio.to_thread(in_session, courier.engine, _redmine_targets)
    changed = 0
    for row in stored:
        target = Redmine(config_of(row, courier.vault), courier.client)
        issues = await target.changed_since(row.polled_at)  # Redmine's times: whole seconds, UTC
        recorded = await asyncio.to_thread(
            in_session, courier.engine, partial(_apply, row=row, issues=issues)
        )
        await courier.publish(recorded)
        changed += len([e for e in recorded if e["type"] == events.TASK_UPDATED])
    return changed


def _redmine_targets(session: Session) -> list[ExportTarget]:
    rows = list(
        session.exec(
            select(ExportTarget).where(ExportTarget.type == "redmine").order_by(col(ExportTarget.id))
        )
    )
    for row in rows:
        session.expunge(row)
    return rows


def _apply(session: Session, *, row: ExportTarget, issues: list[dict[str, Any]]) -> list[dict[str, Any]]:
    logins = dict((row.options or {}).get("logins", {}))
    recorded: list[dict[str, Any]] = []
    for issue in issues:
        recorded += take_back(session, row.name, str(issue["id"]), redmine_values(issue, logins))
    stored = session.get(ExportTarget, row.id)
    if issues and stored is not None:
        stored.polled_at = datetime.fromisoformat(issues[-1]["updated_on"])
        session.add(stored)
    return recorded
