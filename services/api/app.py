"""The FastAPI application: REST under /api, live events on /ws."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session
from starlette.exceptions import HTTPException

from core import events
from core.config import Settings
from core.db import session_scope
from core.runtime.queue import events_subject
from core.runtime.system import open_system
from core.slack.users import SlackUsers
from services.api import ws
from services.api.auth import RequireApiKey
from services.api.limits import BodyLimit
from services.api.routes import exports, messages, slack, system, tasks, telegram
from services.api.state import PAGE, AppState, EventHub

T = TypeVar("T")

SOURCES = ("body", "query", "path", "header", "cookie")
STATUS_FIELDS = {400: "body", 401: "authorization", 404: "path", 405: "method", 413: "body"}
"""The field a plain HTTP error is about (400 is FastAPI's "error parsing the body")."""


def _field(error: dict[str, Any]) -> str:
    """`messages.5.text` for ("body", "messages", 5, "text"); "body" for undecodable JSON."""
    loc = list(error.get("loc", ()))
    if error.get("type") == "json_invalid":
        return "body"
    if loc and loc[0] in SOURCES:
        loc = loc[1:]
    return ".".join(str(p) for p in loc) or "body"


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 naming every offending field."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field(e), "message": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()
    ]
    return JSONResponse({"detail": errors}, status_code=422)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    """Every HTTP error in the validation shape: {"detail": [{"field", "message"}]}."""
    assert isinstance(exc, HTTPException)
    detail: Any = exc.detail
    if isinstance(detail, str):
        detail = [{"field": STATUS_FIELDS.get(exc.status_code, "request"), "message": detail}]
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = allowed_methods(request)
    return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=headers)


def allowed_methods(request: Request) -> str:
    """Every method some route serves on this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, APIRoute) and route.path_regex.match(request.url.path):
            methods |= route.methods or set()
    return ", ".join(sorted(methods))


POLL_SECONDS = 1.0
"""How often each API process checks the outbox for events NATS did not bring."""


def _in_session(engine: Engine, work: Callable[[Session], T]) -> T:
    with session_scope(engine) as session:
        return work(session)


async def fetch_events(engine: Engine, after: int) -> list[dict[str, Any]]:
    """One page of committed events after `after` (the hub's and the backlog's source)."""
    return await asyncio.to_thread(_in_session, engine, lambda s: events.events_since(s, after, PAGE))


async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """503 when PostgreSQL cannot be reached (or asks to retry): the client may try again."""
    body = {"detail": [{"field": "postgres", "message": f"database unavailable: {type(exc).__name__}"}]}
    return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})


def _event_hub(engine: Engine) -> EventHub:
    """The hub that hands this process's WebSocket clients every event in seq order."""
    return EventHub(
        fetch=partial(fetch_events, engine),
        latest=partial(asyncio.to_thread, _in_session, engine, events.last_seq),
    )


def _lifespan(settings: Settings) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Connect to PostgreSQL and NATS for the process's life; relay NATS events to the hub."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with open_system(settings, migrate=False) as system:  # `tracker up` migrated already
            services = await system.services()
            hub = _event_hub(system.engine)
            with contextlib.suppress(Exception):  # PostgreSQL down: start anyway, /api/health says so
                await hub.catch_up()

            async def on_events(msg: Any) -> None:
                await hub.receive(events.decode(msg.data))

            subscription = await services.nats.subscribe(events_subject(settings), cb=on_events)
            poller = asyncio.create_task(hub.poll(POLL_SECONDS))
            app.state.tracker = AppState(services, hub, SlackUsers.configured(settings))
            try:
                yield
            finally:
                poller.cancel()
                await subscription.unsubscribe()
                await services.close()

    return lifespan


def create_app(settings: Settings) -> FastAPI:
    """An API process bound to the configured database and NATS."""
    app = FastAPI(title="Task Tracker", version=system.VERSION, lifespan=_lifespan(settings))
    app.add_middleware(BodyLimit, settings=settings)
    app.add_middleware(RequireApiKey, settings=settings)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    for unavailable in (OperationalError, InterfaceError):
        app.add_exception_handler(unavailable, database_unavailable)
    routers = (system.router, messages.router, tasks.router, telegram.router, slack.router, exports.router)
    for router in (*routers, ws.router):
        app.include_router(router)
    return app
