"""Request body size: refused before it is read, with the same JSON error as other bad input."""

from __future__ import annotations

from fastapi import HTTPException
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.config import Settings

TOO_LARGE = "request body larger than {limit} bytes: send fewer or shorter messages per request"


def max_body_bytes(settings: Settings) -> int:
    """Room for a full batch of the longest texts, even with every character JSON-escaped."""
    return settings.max_batch * (6 * settings.max_text_bytes + 8192) + 65536


class BodyLimit:
    """ASGI middleware: 413 for a body over the limit, by Content-Length or as it streams in."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.limit = max_body_bytes(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            body = {"detail": [{"field": "body", "message": TOO_LARGE.format(limit=self.limit)}]}
            await JSONResponse(body, status_code=413)(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:  # chunked: the route's error handler answers
                raise HTTPException(413, TOO_LARGE.format(limit=self.limit))
            return message

        await self.app(scope, limited, send)
