"""Reading exports: a task's, for the API, the dashboard and the events."""

from __future__ import annotations

from collections import defaultdict

from sqlmodel import Session, col, select

from core.models import TaskExport
from core.schemas import ExportPublic


def exports_of(session: Session, task_id: int) -> list[ExportPublic]:
    return exports_of_tasks(session, [task_id])[task_id]


def exports_of_tasks(session: Session, task_ids: list[int]) -> dict[int, list[ExportPublic]]:
    """Each task's exports, by target name (one query)."""
    rows = session.exec(
        select(TaskExport).where(col(TaskExport.task_id).in_(task_ids)).order_by(col(TaskExport.target))
    ).all()
    found: dict[int, list[ExportPublic]] = defaultdict(list)
    for row in rows:
        found[row.task_id].append(ExportPublic.model_validate(row, from_attributes=True))
    return {task_id: found[task_id] for task_id in task_ids}
