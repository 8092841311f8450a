"""Request dependencies as Annotated aliases."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, WebSocket, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.api.state import AppState

bearer = HTTPBearer(auto_error=False)


def get_state(request: Request) -> AppState:
    return request.app.state.tracker  # type: ignore[no-any-return]


def key_matches(state: AppState, presented: str | None) -> bool:
    expected = state.settings.api_key
    if expected is None or presented is None:
        return False
    return secrets.compare_digest(presented.encode(), expected.get_secret_value().encode())


def require_key(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> None:
    if not key_matches(get_state(request), credentials.credentials if credentials else None):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or wrong API key: send Authorization: Bearer <TRACKER_API_KEY>",
            headers={"WWW-Authenticate": "Bearer"},
        )


def websocket_key(websocket: WebSocket) -> str | None:
    header = websocket.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return websocket.query_params.get("token")


StateDep = Annotated[AppState, Depends(get_state)]
Authorized = Depends(require_key)


def field_error(field: str, message: str, status_code: int = 422) -> HTTPException:
    """A 4xx in the same shape as validation errors: which field, and why."""
    return HTTPException(status_code, [{"field": field, "message": message}])
