"""The error answers every endpoint may give, declared in the OpenAPI schema in one shape."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class FieldProblem(BaseModel):
    """What is wrong and where: a body field (`messages.5.text`), a parameter, or a server."""

    field: str
    message: str
    type: str | None = None


class Problem(BaseModel):
    """Every 4xx and 503 answer: {"detail": [{"field", "message"}]}."""

    detail: list[FieldProblem]


MEANINGS = {
    400: "The body could not be read (not UTF-8 / not parseable)",
    401: "Missing or wrong API key (Authorization: Bearer <TRACKER_API_KEY>)",
    404: "No such row",
    409: "Someone changed the task meanwhile (expected_version is stale)",
    413: "Request body too large",
    422: "Invalid input: each offending field and why",
    503: "PostgreSQL unavailable: try again (Retry-After)",
}


Responses = dict[int | str, dict[str, Any]]
"""FastAPI's `responses=`: OpenAPI answers by status code."""


def problems(*codes: int) -> Responses:
    """OpenAPI `responses` for these error codes, each in the Problem shape."""
    return {code: {"model": Problem, "description": MEANINGS[code]} for code in codes}


READ = problems(401, 422, 503)
"""What every protected endpoint may answer besides success."""
WRITE = problems(400, 401, 413, 422, 503)
"""The same for an endpoint with a JSON body."""
