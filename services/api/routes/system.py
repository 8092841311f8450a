"""GET /, /api/health and /api/config."""

from __future__ import annotations

import asyncio
from importlib.metadata import version
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from core.db import ping
from core.models import Kind, Priority, TaskStatus
from services.api.deps import Authorized, StateDep
from services.api.problems import Responses, problems

router = APIRouter(tags=["system"])
VERSION = version("task-tracker")


@router.get("/")
def root() -> dict[str, str]:
    return {"name": "Task Tracker", "status": "ok", "version": VERSION}


class Health(BaseModel):
    """Whether each server answers: `"ok"`, or `"down: <why>"`."""

    status: Literal["ok", "down"]
    checks: dict[str, str]
    down: list[str]
    """The servers that do not answer (`postgres`, `nats`)."""


DOWN: Responses = {503: {"model": Health, "description": "A server does not answer; `down` names it"}}


@router.get("/api/health", response_model=Health, responses=DOWN)
async def health(state: StateDep) -> JSONResponse:
    """200 when PostgreSQL and NATS answer; 503 naming what is down."""
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(asyncio.to_thread(ping, state.services.engine), 5)
        checks["postgres"] = "ok"
    except Exception as exc:
        checks["postgres"] = f"down: {type(exc).__name__}"
    nc = state.services.nats
    try:
        await asyncio.wait_for(nc.flush(), 2)
        checks["nats"] = "ok" if nc.is_connected else "down: not connected"
    except Exception as exc:
        checks["nats"] = f"down: {type(exc).__name__}"
    down = [name for name, value in checks.items() if value != "ok"]
    body: dict[str, Any] = {"status": "ok" if not down else "down", "checks": checks, "down": down}
    return JSONResponse(body, status_code=503 if down else 200)


@router.get("/api/config", dependencies=[Authorized], responses=problems(401))
def config(state: StateDep) -> dict[str, Any]:
    """What a client needs to know; never a secret."""
    settings = state.settings
    return {
        "version": VERSION,
        "taxonomy": {
            "kinds": [k.value for k in Kind],
            "priorities": [p.value for p in Priority],
            "statuses": [s.value for s in TaskStatus],
        },
        "classifier": settings.classifier,
        "llm": {"provider": settings.llm_provider, "model": settings.llm_model},
        "features": {
            "telegram": settings.telegram_bot_token is not None,
            "telegram_webhook": settings.telegram_webhook_url is not None,
            "slack": settings.slack_signing_secret is not None,
            "email": settings.email_imap_url is not None,
            "websocket": True,
        },
        "limits": {"max_text_bytes": settings.max_text_bytes, "max_batch": settings.max_batch},
    }
