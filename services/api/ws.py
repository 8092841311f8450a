"""WebSocket /ws: live events, with catch-up from ?since=SEQ."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool

from core.db import session_scope
from core.events import events_since

router = APIRouter()


@router.websocket("/ws")
async def websocket_events(websocket: WebSocket, since: int | None = None) -> None:
    state = websocket.app.state.tracker  # the key was checked by RequireApiKey
    await websocket.accept()
    queue = state.hub.subscribe()
    last = since or 0
    try:
        if since is not None:

            def backlog() -> list[dict[str, object]]:
                with session_scope(state.services.engine) as session:
                    return events_since(session, since)

            for event in await run_in_threadpool(backlog):
                await websocket.send_json(event)
                last = max(last, int(event["seq"]))  # type: ignore[call-overload]
        while True:
            event = await queue.get()
            if event["seq"] > last or since is None:
                await websocket.send_json(event)
                last = max(last, event["seq"])
    except WebSocketDisconnect:
        pass
    finally:
        state.hub.unsubscribe(queue)
