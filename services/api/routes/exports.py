"""POST /api/exports/hooks/{target}: GitHub's and Jira's webhooks, checked by their signature
(not the API key): an exported issue closed, reopened or reassigned there changes the task."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from sqlmodel import Session

from core.exports.hooks import BadSignature, receive
from core.exports.vault import vault
from services.api.deps import StateDep, field_error
from services.api.problems import Problem, problems

router = APIRouter(prefix="/api/exports", tags=["exports"])


HOOK_ANSWERS = {
    **problems(400, 404, 413, 422, 503),
    401: {"model": Problem, "description": "Bad or missing signature (X-Hub-Signature-256, Jira's secret)"},
}


@router.post("/hooks/{target}", responses=HOOK_ANSWERS)
async def post_hook(target: str, request: Request, state: StateDep) -> dict[str, int]:
    """One webhook delivery from the tracker of an export target; answers how many tasks changed."""
    body, headers = await request.body(), {k.lower(): v for k, v in request.headers.items()}
    sealer = vault(state.settings)

    def take(session: Session) -> tuple[int, list[dict[str, Any]]]:
        recorded = receive(session, sealer, target, headers, body)
        return sum(e["type"] == "task.updated" for e in recorded), recorded

    try:
        changed = await state.services.run(take)
    except LookupError as exc:
        raise field_error("target", str(exc), 404) from exc
    except BadSignature as exc:
        raise field_error("signature", str(exc), 401) from exc
    except json.JSONDecodeError as exc:
        raise field_error("body", f"not JSON ({exc.msg})") from exc
    return {"changed": changed}
