"""When a task goes to a target: rows written in the transaction that decided it.

Targets take tasks on their own on acceptance (default), on creation, or when critical,
from every chat or the ones they list; a person exports one by hand. A change of an
exported task marks its other exports for an update (not the target it came from).

A merge: the absorbed task's exports to targets the survivor is not in move to the survivor
(with their marker and external issue: the issue now tells the survivor's story, nothing is
created twice); where both are in a target, the absorbed task's issue is left as it is and
an export of it still waiting fails at its turn (merged before its export).
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from core import events
from core.exports.targets import Rule, get_target, target_rules
from core.models import ExportTrigger, Priority, Task

EXPORT_QUEUED = "export.queued"
"""Payload: task_id, export_id, target. Whoever publishes it queues the export for the worker."""
KICK_DELAY = 5.0
"""Seconds before the worker's sweep takes a new export whose queue message was lost."""
_TARGETS = "tracker.export_targets"

_PLAN = text(
    """
    INSERT INTO task_exports (task_id, target, status, marker, attempts, next_attempt_at, synced_version,
                              created_at, updated_at)
    VALUES (:task, :target, 'pending', :marker, 0, now() + make_interval(secs => :delay), 0, now(), now())
    ON CONFLICT (task_id, target) DO UPDATE SET status = 'pending', last_error = NULL, attempts = 0,
        next_attempt_at = EXCLUDED.next_attempt_at, leased_until = NULL, updated_at = now()
    WHERE :again AND task_exports.status <> 'pending'
    RETURNING id
    """
)
_CHANGED = text(
    """
    UPDATE task_exports SET status = 'pending', next_attempt_at = now() + make_interval(secs => :delay),
        updated_at = now()
    WHERE task_id = :task AND status = 'exported' AND synced_version < :version AND target <> :origin
    RETURNING id, target
    """
)

_MOVE = text(
    """
    UPDATE task_exports SET task_id = :survivor, status = 'pending', last_error = NULL, attempts = 0,
        synced_version = 0, next_attempt_at = now() + make_interval(secs => :delay), updated_at = now()
    WHERE task_id = :absorbed AND target NOT IN (SELECT target FROM task_exports WHERE task_id = :survivor)
    RETURNING id, target
    """
)


def on_task_change(
    session: Session, task: Task, *, created: bool = False, accepted: bool = False, origin: str = ""
) -> list[dict[str, Any]]:
    """Plan the exports this change calls for; mark the task's exports (but origin's) for update."""
    targets = _targets(session)
    if not targets:
        return []
    due = {ExportTrigger.create} if created else set()
    due |= {ExportTrigger.accept} if accepted else set()
    due |= {ExportTrigger.critical} if task.priority == Priority.critical else set()
    queued = [_plan(session, task, t.name, again=False) for t in targets if _wants(t, task, due)]
    ids = [q for q in queued if q is not None] + _changed(session, task, origin)
    return events.record_events(session, [_queued(task, i, name) for i, name in ids])


def _changed(session: Session, task: Task, origin: str) -> list[tuple[int, str]]:
    """Mark the task's exported issues behind its version (but origin's) for update: (id, target)."""
    rows = session.execute(
        _CHANGED, {"task": task.id, "version": task.version, "origin": origin, "delay": KICK_DELAY}
    ).all()
    return [(row.id, row.target) for row in rows]


def on_task_events(session: Session, items: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """`on_task_change` for the tasks the chat opened or changed (the pipeline's events), once each;
    `on_merge` for those it merged into an earlier one."""
    created: dict[int, bool] = {}
    for kind, payload in items:
        if kind in (events.TASK_CREATED, events.TASK_UPDATED) and payload.get("id"):
            created[payload["id"]] = created.get(payload["id"], False) or kind == events.TASK_CREATED
    if not (created and _targets(session)):  # a batch that changed no task reads no targets
        return []
    recorded: list[dict[str, Any]] = []
    for task_id, opened in created.items():
        task = session.get(Task, task_id)
        if task is None:
            continue
        survivor = session.get(Task, task.merged_into_id) if task.merged_into_id else None
        if survivor is not None:  # the chat said it is the same as an earlier task
            recorded += on_merge(session, task, survivor)
        else:
            recorded += on_task_change(session, task, created=opened)
    return recorded


def on_merge(session: Session, absorbed: Task, survivor: Task) -> list[dict[str, Any]]:
    """The survivor takes over the absorbed task's exports it has no own of; its own are updated,
    and the absorbed task's others closed as duplicates."""
    moved = session.execute(
        _MOVE, {"absorbed": absorbed.id, "survivor": survivor.id, "delay": KICK_DELAY}
    ).all()
    recorded = events.record_events(session, [_queued(survivor, row.id, row.target) for row in moved])
    return recorded + on_task_change(session, survivor) + _close(session, absorbed)


def _close(session: Session, absorbed: Task) -> list[dict[str, Any]]:
    """The absorbed task's issues that stay its own (the survivor has one in that tracker) are
    updated once more: closed as duplicates of the survivor's."""
    changed = _changed(session, absorbed, origin="")
    return events.record_events(session, [_queued(absorbed, i, name) for i, name in changed])


def request_export(session: Session, task: Task, target: str) -> list[dict[str, Any]]:
    """A person's "Export to ...": queued again when it failed or is exported (an update)."""
    planned = _plan(session, task, target, again=True)
    return events.record_events(session, [_queued(task, *planned)] if planned else [])


def _plan(session: Session, task: Task, target: str, *, again: bool) -> tuple[int, str] | None:
    marker = secrets.token_hex(12)
    row = session.execute(
        _PLAN, {"task": task.id, "target": target, "marker": marker, "delay": KICK_DELAY, "again": again}
    ).first()
    return (row.id, target) if row else None


def _wants(target: Rule, task: Task, due: set[ExportTrigger]) -> bool:
    chats = target.chats or []
    return bool(due & set(target.triggers or [])) and (not chats or task.chat_id in chats)


def _targets(session: Session) -> list[Rule]:
    """The targets' rules, read once per transaction (the pipeline asks for every batch that
    changed a task)."""
    if _TARGETS not in session.info:
        session.info[_TARGETS] = target_rules(session)
    return list(session.info[_TARGETS])


def known_target(session: Session, name: str) -> bool:
    return get_target(session, name) is not None


def _queued(task: Task, export_id: int, target: str) -> tuple[str, dict[str, Any]]:
    return EXPORT_QUEUED, {"task_id": task.id, "export_id": export_id, "target": target}


def queued_ids(recorded: list[dict[str, Any]]) -> list[int]:
    """The exports a batch of committed events queued."""
    return [int(e["payload"]["export_id"]) for e in recorded if e["type"] == EXPORT_QUEUED]
