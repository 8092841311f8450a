"""/api/tasks: list, read, create and change tasks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from core.db import session_scope
from core.exports.plan import known_target, request_export
from core.exports.queries import exports_of
from core.models import Kind, Priority, Task, TaskStatus
from core.schemas import (
    ExportRequest,
    MessageMove,
    Offset,
    Page,
    RowId,
    Storable,
    TaskCreate,
    TaskDetail,
    TaskMerge,
    TaskPublic,
    TaskUpdate,
)
from core.triage.commands import (
    Decided,
    InvalidTaskChange,
    TaskConflict,
    create_task,
    merge_task,
    move_message,
    update_task,
)
from core.triage.queries import SortKey, TaskFilter, TaskNotFound, list_tasks, task_detail, task_message_ids
from services.api.deps import Authorized, StateDep, field_error
from services.api.problems import READ, WRITE, problems
from services.api.state import AppState

router = APIRouter(prefix="/api/tasks", tags=["tasks"], dependencies=[Authorized], responses=READ)
DECISION = WRITE | problems(404, 409)
"""What a human decision on a task may answer besides success."""


def _not_found(task_id: int) -> HTTPException:
    return field_error("task_id", f"task {task_id} not found", 404)


def _public(task: Task, message_ids: list[int]) -> TaskPublic:
    public = TaskPublic.model_validate(task)
    public.message_ids = message_ids
    return public


@router.get("", response_model=Page[TaskPublic])
def get_tasks(
    state: StateDep,
    status: Annotated[list[TaskStatus] | None, Query()] = None,
    kind: Annotated[list[Kind] | None, Query()] = None,
    priority: Annotated[list[Priority] | None, Query()] = None,
    chat_id: Annotated[Storable | None, Query(max_length=128)] = None,
    assignee: Annotated[Storable | None, Query(max_length=128)] = None,
    search: Annotated[Storable | None, Query(max_length=200)] = None,
    source: Annotated[
        Storable | None, Query(max_length=32, description="The channel: telegram, slack, email")
    ] = None,
    exported_to: Annotated[
        Storable | None, Query(max_length=64, description="An export target the task has an issue in")
    ] = None,
    sort: SortKey = "triage",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> Page[TaskPublic]:
    """Tasks, critical and newest first by default, with filters and paging."""
    flt = TaskFilter(
        status, kind, priority, chat_id, assignee, search, source=source, exported_to=exported_to
    )
    with session_scope(state.services.engine) as session:
        if exported_to and not known_target(session, exported_to):
            raise field_error("exported_to", f"no export target named {exported_to!r} (tracker exports list)")
        tasks, total = list_tasks(session, flt, limit=limit, offset=offset, sort=sort)
        links = task_message_ids(session, [t.id or 0 for t in tasks])
    items = [_public(t, links[t.id or 0]) for t in tasks]
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.get("/{task_id}", response_model=TaskDetail, responses=problems(404))
def get_one(task_id: RowId, state: StateDep) -> TaskDetail:
    """The task with its conversation (every message with author, time and role), the history
    of its changes with their evidence, and the open tasks most like it."""
    with session_scope(state.services.engine) as session:
        try:
            detail = task_detail(session, task_id)
        except TaskNotFound:
            raise _not_found(task_id) from None
        detail.exports = exports_of(session, task_id)
        return detail


@router.post("", response_model=TaskPublic, status_code=201, responses=WRITE)
async def post_task(body: TaskCreate, state: StateDep) -> TaskPublic:
    """A manual task, optionally from stored messages."""
    try:
        task = await state.services.run(lambda s: create_task(s, body))
    except InvalidTaskChange as exc:
        raise field_error(exc.field, exc.reason) from exc
    return _public(task, list(dict.fromkeys(body.message_ids)))


@router.patch("/{task_id}", response_model=TaskDetail, responses=DECISION)
async def patch_task(task_id: RowId, body: TaskUpdate, state: StateDep) -> TaskDetail:
    """Change status, kind, priority, title or assignee; the change is a human label."""
    task = await _decide(lambda s: update_task(s, task_id, body), task_id, state)
    return await run_in_threadpool(get_one, task.id or task_id, state)


async def _decide(decision: Callable[[Session], Decided], task_id: int, state: AppState) -> Task:
    """Run a human decision on the task; its refusals become 404, 409 or 422 naming the field."""
    try:
        return await state.services.run(decision)
    except TaskNotFound:
        raise _not_found(task_id) from None
    except TaskConflict as exc:
        raise field_error("expected_version", str(exc), 409) from exc
    except InvalidTaskChange as exc:
        raise field_error(exc.field, exc.reason) from exc


@router.post("/{task_id}/merge", response_model=TaskDetail, responses=DECISION)
async def post_merge(task_id: RowId, body: TaskMerge, state: StateDep) -> TaskDetail:
    """Merge this task into another (a duplicate): its messages join the other task."""
    await _decide(
        lambda s: merge_task(s, task_id, body.into_id, expected_version=body.expected_version), task_id, state
    )
    return await run_in_threadpool(get_one, body.into_id, state)


@router.post(
    "/{task_id}/messages/{message_id}/move", response_model=TaskDetail, responses=WRITE | problems(404)
)
async def post_move(task_id: RowId, message_id: RowId, body: MessageMove, state: StateDep) -> TaskDetail:
    """Move a message of this task to another task, or to a new task of its own (split)."""
    target = await _decide(lambda s: move_message(s, task_id, message_id, body.into_id), task_id, state)
    return await run_in_threadpool(get_one, target.id or 0, state)


@router.post("/{task_id}/exports", status_code=202, responses=WRITE | problems(404))
async def post_export(task_id: RowId, body: ExportRequest, state: StateDep) -> dict[str, object]:
    """Export the task to a target now (again, when it failed: after fixing the target); the
    worker does it: `GET /api/tasks/{id}` shows how it went."""

    def export(session: Session) -> tuple[None, list[dict[str, object]]]:
        task = session.get(Task, task_id)
        if task is None:
            raise TaskNotFound(task_id)
        if task.merged_into_id is not None:
            raise InvalidTaskChange("task_id", f"task {task_id} was merged into task {task.merged_into_id}")
        if not known_target(session, body.target):
            raise InvalidTaskChange(
                "target", f"no export target named {body.target!r} (tracker exports list)"
            )
        return None, request_export(session, task, body.target)

    await _decide(export, task_id, state)  # type: ignore[arg-type]
    return {"task_id": task_id, "target": body.target, "status": "pending"}
