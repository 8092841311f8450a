"""POST and GET /api/messages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from core.db import session_scope
from core.messages.ingest import Ingested, InvalidMessage
from core.messages.reads import MessageFilter, get_message, list_messages
from core.models import MessageStatus
from core.schemas import MessageBatchIn, MessageCreate, MessagePublic, Offset, Page, RowId, Storable
from services.api.deps import Authorized, StateDep, field_error
from services.api.problems import READ, WRITE, Responses, problems
from services.api.state import AppState

router = APIRouter(prefix="/api/messages", tags=["messages"], dependencies=[Authorized], responses=READ)
KNOWN: Responses = {200: {"model": MessagePublic, "description": "Already stored: the stored message"}}


async def _receive(state: AppState, items: list[MessageCreate], batch: bool) -> list[Ingested]:
    try:
        return await state.services.receive(items)
    except InvalidMessage as exc:
        field = f"messages.{exc.index}.{exc.field}" if batch else exc.field
        raise field_error(field, exc.reason) from exc


@router.post("", response_model=MessagePublic, status_code=201, responses=WRITE | KNOWN)
async def post_message(item: MessageCreate, state: StateDep, response: Response) -> MessagePublic:
    """Store one message (201), or return the stored one for a known id (200)."""
    [result] = await _receive(state, [item], batch=False)
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return MessagePublic.model_validate(result.message)


@router.post("/batch", status_code=201, responses=WRITE)
async def post_batch(body: MessageBatchIn, state: StateDep) -> dict[str, object]:
    """Store up to TRACKER_MAX_BATCH messages at once; known ones are not stored again."""
    if len(body.messages) > state.settings.max_batch:
        raise field_error("messages", f"at most {state.settings.max_batch} messages per batch")
    result = await _receive(state, body.messages, batch=True)
    return {
        "created": sum(r.created for r in result),
        "existing": sum(not r.created for r in result),
        "items": [{"id": r.message.id, "created": r.created, "status": r.message.status} for r in result],
    }


@router.api_route("/batch", methods=["GET", "PUT", "PATCH", "DELETE"], include_in_schema=False)
def batch_takes_only_post() -> JSONResponse:
    """`/batch` is no message id: other methods get 405, not a 422 about `message_id`."""
    body = {"detail": [{"field": "method", "message": "send the batch with POST"}]}
    return JSONResponse(body, status.HTTP_405_METHOD_NOT_ALLOWED, headers={"Allow": "POST"})


@router.get("", response_model=Page[MessagePublic])
def get_messages(
    state: StateDep,
    chat_id: Annotated[Storable | None, Query(max_length=128)] = None,
    source: Annotated[
        Storable | None, Query(max_length=32, description="The channel: telegram, slack, email")
    ] = None,
    status_: Annotated[MessageStatus | None, Query(alias="status")] = None,
    search: Annotated[Storable | None, Query(max_length=200)] = None,
    thread_of: RowId | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> Page[MessagePublic]:
    """Stored messages, newest first, each with its current classification."""
    flt = MessageFilter(chat_id=chat_id, source=source, status=status_, search=search, thread_of=thread_of)
    with session_scope(state.services.engine) as session:
        items, total = list_messages(session, flt, limit=limit, offset=offset)
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.get("/{message_id}", response_model=MessagePublic, responses=problems(404))
async def get_one(message_id: RowId, state: StateDep) -> MessagePublic:
    def read() -> MessagePublic | None:
        with session_scope(state.services.engine) as session:
            return get_message(session, message_id)

    found = await run_in_threadpool(read)
    if found is None:
        raise field_error("message_id", f"message {message_id} not found", 404)
    return found
