"""HTTP calls to a target: its answer sorted into success, Retryable and Refused."""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from core.exports.target import Refused, Retryable
from core.models import utcnow

MAX_REASON = 500


async def call(client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request; timeouts, transport errors, 5xx and 429 are Retryable, other 4xx Refused."""
    where = f"{method} {httpx.URL(url).copy_with(query=None)}"  # a query may carry a token
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.TimeoutException:
        raise Retryable(f"{where}: timed out") from None
    except httpx.TransportError as exc:
        raise Retryable(f"{where}: {type(exc).__name__}") from None
    code = response.status_code
    if code == 429 or code >= 500:
        raise Retryable(f"{where}: {code} {reason(response)}", retry_after(response))
    if code >= 400:
        raise Refused(f"{where}: {code} {reason(response)}")
    return response


def reason(response: httpx.Response) -> str:
    """What the target said was wrong, shortened."""
    return " ".join(response.text.split())[:MAX_REASON] or response.reason_phrase


def retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds (it may be a number of seconds or an HTTP date)."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.replace(".", "", 1).isdigit():
        return float(value)
    try:
        return max((parsedate_to_datetime(value) - utcnow()).total_seconds(), 0.0)
    except (TypeError, ValueError):
        return None
