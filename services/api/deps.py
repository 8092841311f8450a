"""Request dependencies as Annotated aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.api.auth import UNAUTHORIZED, key_matches
from services.api.state import AppState

bearer = HTTPBearer(auto_error=False)


def get_state(request: Request) -> AppState:
    return request.app.state.tracker  # type: ignore[no-any-return]


def require_key(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> None:
    """Declares the Bearer scheme in OpenAPI; RequireApiKey has already checked the key."""
    if not key_matches(get_state(request).settings, credentials.credentials if credentials else None):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"}
        )


StateDep = Annotated[AppState, Depends(get_state)]
Authorized = Depends(require_key)


def field_error(field: str, message: str, status_code: int = 422) -> HTTPException:
    """A 4xx in the same shape as validation errors: which field, and why."""
    return HTTPException(status_code, [{"field": field, "message": message}])
