"""WebSocket /ws: live events, with catch-up from ?since=SEQ."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool

from core.db import session_scope
from core.events import last_seq
from core.schemas import MAX_ID
from services.api.state import CLOSED, LAGGING, PAGE, AppState, Event

router = APIRouter()


@router.websocket("/ws")
async def websocket_events(
    websocket: WebSocket, since: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None
) -> None:
    """Every event from now on; with ?since=SEQ, first every event after SEQ."""
    state: AppState = websocket.app.state.tracker  # the key was checked by RequireApiKey
    await websocket.accept()
    queue = state.hub.subscribe()
    watcher = asyncio.create_task(_until_disconnect(websocket, queue))
    try:
        last = -1 if since is None else await _send_backlog(websocket, state, since)
        while (event := await queue.get()) is not CLOSED and event is not LAGGING:
            if event["seq"] > last:
                await websocket.send_json(event)
        if event is LAGGING:
            await websocket.close(1013, "too far behind: reconnect with ?since=<last seq received>")
    except (WebSocketDisconnect, OSError):
        pass
    finally:
        state.hub.unsubscribe(queue)
        watcher.cancel()


async def _send_backlog(websocket: WebSocket, state: AppState, since: int) -> int:
    """Send the stored events after `since`; returns the last seq sent (or `since`)."""
    last = min(since, await run_in_threadpool(_last_seq, state))  # a seq from another database
    while page := await state.hub.fetch(last):
        for event in page:
            await websocket.send_json(event)
        last = int(page[-1]["seq"])
        if len(page) < PAGE:
            break
    return last


def _last_seq(state: AppState) -> int:
    with session_scope(state.services.engine) as session:
        return last_seq(session)


async def _until_disconnect(websocket: WebSocket, queue: asyncio.Queue[Event]) -> None:
    """Wake the sender when the client goes, even while no event comes."""
    with contextlib.suppress(Exception):
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass
    with contextlib.suppress(asyncio.QueueFull):
        queue.put_nowait(CLOSED)
