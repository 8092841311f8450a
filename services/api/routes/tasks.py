"""/api/tasks: list, read, create and change tasks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.concurrency import run_in_threadpool

from core.db import session_scope
from core.models import Kind, Priority, Task, TaskStatus
from core.schemas import Offset, Page, RowId, Storable, TaskCreate, TaskDetail, TaskPublic, TaskUpdate
from core.triage.commands import InvalidTaskChange, TaskConflict, create_task, update_task
from core.triage.queries import SortKey, TaskFilter, TaskNotFound, list_tasks, task_detail, task_message_ids
from services.api.deps import Authorized, StateDep, field_error

router = APIRouter(prefix="/api/tasks", tags=["tasks"], dependencies=[Authorized])


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
    sort: SortKey = "triage",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> Page[TaskPublic]:
    """Tasks, critical and newest first by default, with filters and paging."""
    flt = TaskFilter(status, kind, priority, chat_id, assignee, search)
    with session_scope(state.services.engine) as session:
        tasks, total = list_tasks(session, flt, limit=limit, offset=offset, sort=sort)
        links = task_message_ids(session, [t.id or 0 for t in tasks])
    items = [_public(t, links[t.id or 0]) for t in tasks]
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.get("/{task_id}", response_model=TaskDetail)
def get_one(task_id: RowId, state: StateDep) -> TaskDetail:
    """The task with its conversation (every message with author, time and role), the history
    of its changes with their evidence, and the open tasks most like it."""
    with session_scope(state.services.engine) as session:
        try:
            return task_detail(session, task_id)
        except TaskNotFound:
            raise _not_found(task_id) from None


@router.post("", response_model=TaskPublic, status_code=201)
async def post_task(body: TaskCreate, state: StateDep) -> TaskPublic:
    """A manual task, optionally from stored messages."""
    try:
        task = await state.services.run(lambda s: create_task(s, body))
    except InvalidTaskChange as exc:
        raise field_error(exc.field, exc.reason) from exc
    return _public(task, list(dict.fromkeys(body.message_ids)))


@router.patch("/{task_id}", response_model=TaskDetail)
async def patch_task(task_id: RowId, body: TaskUpdate, state: StateDep) -> TaskDetail:
    """Change status, kind, priority, title or assignee; the change is a human label."""
    try:
        task = await state.services.run(lambda s: update_task(s, task_id, body))
    except TaskNotFound:
        raise _not_found(task_id) from None
    except TaskConflict as exc:
        raise field_error("expected_version", str(exc), 409) from exc
    return await run_in_threadpool(get_one, task.id or task_id, state)
