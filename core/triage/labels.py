"""Labels: every human decision about a message, kept for training and evaluation.

This is the one place that writes them; core.classification.local.training reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session

from core.models import Kind, Label, LabelAction, LabelOrigin, Task, TaskMessageRole, TaskStatus
from core.triage.queries import task_message_roles

WORKING_STATUSES = (TaskStatus.accepted, TaskStatus.in_progress, TaskStatus.done)
REPORT_ROLES = (TaskMessageRole.source, TaskMessageRole.manual, TaskMessageRole.duplicate)


def label(
    message_id: int, action: LabelAction, origin: LabelOrigin, author: str | None, task: Task | None = None
) -> Label:
    """The label row of one decision; without a task (or when rejected) the message is noise."""
    kind = Kind.noise if task is None or action == LabelAction.reject else task.kind
    return Label(
        message_id=message_id,
        task_id=task.id if task else None,
        kind=kind,
        priority=None if task is None or kind == Kind.noise else task.priority,
        title=task.title if task else None,
        action=action,
        origin=origin,
        author=author,
    )


def action_for_change(values: Mapping[str, Any]) -> LabelAction:
    """The action a change of these task fields amounts to."""
    status = values.get("status")
    if status == TaskStatus.rejected:
        return LabelAction.reject
    if status in WORKING_STATUSES and len(values) == 1:
        return LabelAction.accept
    return LabelAction.correct


def label_task_messages(
    session: Session, task: Task, action: LabelAction, origin: LabelOrigin, author: str | None
) -> None:
    """Each report of the task (the message that opened it, those linked by hand, duplicate
    reports) gets the human's verdict as a training label; the discussion around it ("ок",
    "беру", answers) says nothing about the task's kind and gets none."""
    roles = task_message_roles(session, [task.id or 0])[task.id or 0]
    for message_id, role in roles.items():
        if role in REPORT_ROLES:
            session.add(label(message_id, action, origin, author, task))
