"""POST /api/slack/events: Slack's Events API, checked by its signature instead of the API key."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import ValidationError

from core.messages.ingest import InvalidMessage
from core.slack.events import handle_event
from core.slack.requests import SIGNATURE_HEADER, TIMESTAMP_HEADER, Refused, check_signed
from services.api.auth import SLACK_EVENTS_PATH
from services.api.deps import StateDep, field_error
from services.api.problems import problems

log = logging.getLogger("tracker.slack")
router = APIRouter(tags=["slack"])


@router.post(SLACK_EVENTS_PATH, responses=problems(400, 401, 404, 413, 422, 503))
async def events(request: Request, state: StateDep) -> dict[str, Any]:
    """One Events API request: url_verification answered, message events stored; a request
    not signed by the app's signing secret, or older than 5 minutes: 401, nothing stored."""
    secret = state.settings.slack_signing_secret
    if secret is None:
        raise HTTPException(404, "Slack is off: set TRACKER_SLACK_SIGNING_SECRET")
    body = await request.body()
    headers = request.headers
    try:
        check_signed(
            secret.get_secret_value(), body, headers.get(TIMESTAMP_HEADER), headers.get(SIGNATURE_HEADER)
        )
    except Refused as exc:
        log.warning("slack request refused, nothing stored: %s", exc)
        raise field_error(exc.field, exc.reason, 401) from exc
    envelope = _envelope(body)
    if envelope.get("type") == "url_verification":
        return {"challenge": envelope.get("challenge")}
    if envelope.get("type") != "event_callback" or not isinstance(envelope.get("event"), dict):
        raise _malformed(f"type {envelope.get('type')!r} with no event: not an event_callback")
    try:
        outcome = await handle_event(state.services, envelope["event"], state.slack_users)
    except (ValidationError, InvalidMessage) as exc:
        raise _unstorable(exc) from exc
    log.info("slack event %s: %s", envelope.get("event_id"), outcome)
    return {"ok": True, "outcome": outcome}


def _envelope(body: bytes) -> dict[str, Any]:
    try:
        envelope = json.loads(body)
    except ValueError:
        raise _malformed("not JSON") from None
    if not isinstance(envelope, dict):
        raise _malformed("not a JSON object")
    return envelope


def _malformed(reason: str) -> HTTPException:
    log.warning("slack request refused, nothing stored: body %s", reason)
    return field_error("body", reason, 400)


def _unstorable(exc: ValidationError | InvalidMessage) -> HTTPException:
    """A signed event whose message core refuses (NUL bytes, over-long text, …)."""
    if isinstance(exc, InvalidMessage):
        field, reason = exc.field, exc.reason
    else:
        error = exc.errors()[0]
        field, reason = ".".join(str(p) for p in error["loc"]) or "event", error["msg"]
    log.warning("slack event refused, nothing stored: event.%s: %s", field, reason)
    return field_error(f"event.{field}", reason)
