"""The API key check, applied to every request before anything reads it."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocketClose

from core.config import Settings
from core.telegram.webhook import WEBHOOK_PATH

SLACK_EVENTS_PATH = "/api/slack/events"
PUBLIC_PATHS = frozenset(
    {"/", "/api/health", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json", WEBHOOK_PATH,
     SLACK_EVENTS_PATH}
)  # fmt: skip
"""The webhooks check their sender's own secret (Telegram's header, Slack's signature) instead
of the API key."""
PUBLIC_PREFIXES = ("/api/exports/hooks/",)
"""The trackers' webhooks (GitHub, Jira) check their signature instead of the API key."""
UNAUTHORIZED = "missing or wrong API key: send Authorization: Bearer <TRACKER_API_KEY>"


def key_matches(settings: Settings, presented: str | None) -> bool:
    """True when `presented` is the configured API key (compared in constant time)."""
    expected = settings.api_key
    if expected is None or not presented:
        return False
    return secrets.compare_digest(presented.encode(), expected.get_secret_value().encode())


def bearer_token(headers: Headers) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def presented_key(scope: Scope) -> str | None:
    """The key a request carries: the Bearer header, or ?token= on a WebSocket."""
    token = bearer_token(Headers(scope=scope))
    if token is None and scope["type"] == "websocket":
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        token = query.get("token", [None])[-1]
    return token


class RequireApiKey:
    """ASGI middleware: 401 (WebSocket: refused handshake) for every non-public path
    without the key, before routing, body parsing or validation can run."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    def allows(self, scope: Scope) -> bool:
        path = scope.get("path", "")
        if (
            scope["type"] not in ("http", "websocket")
            or path in PUBLIC_PATHS
            or path.startswith(PUBLIC_PREFIXES)
        ):
            return True
        return key_matches(self.settings, presented_key(scope))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.allows(scope):
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await WebSocketClose(code=1008, reason="missing or wrong API key")(scope, receive, send)
        else:
            body = {"detail": [{"field": "authorization", "message": UNAUTHORIZED}]}
            headers = {"WWW-Authenticate": "Bearer"}
            await JSONResponse(body, status_code=401, headers=headers)(scope, receive, send)
