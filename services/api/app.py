"""The FastAPI application: REST under /api, live events on /ws."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from core import events
from core.bootstrap import connect
from core.config import Settings
from core.queue import events_subject
from services.api import ws
from services.api.routes import messages, system, tasks
from services.api.state import AppState, EventHub


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) or "body"


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 naming every offending field."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    return JSONResponse({"detail": errors}, status_code=422)


def create_app(settings: Settings) -> FastAPI:
    """An API process bound to the configured database and NATS."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await connect(settings)
        hub = EventHub()

        async def on_events(msg: Any) -> None:
            hub.deliver(events.decode(msg.data))

        subscription = await services.nats.subscribe(events_subject(settings), cb=on_events)
        app.state.tracker = AppState(services, hub)
        try:
            yield
        finally:
            await subscription.unsubscribe()
            await services.close()

    app = FastAPI(title="Task Tracker", version=system.VERSION, lifespan=lifespan)
    app.add_exception_handler(RequestValidationError, validation_error)
    for router in (system.router, messages.router, tasks.router, ws.router):
        app.include_router(router)
    return app
