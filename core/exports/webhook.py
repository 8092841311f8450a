"""Webhook target: the export document POSTed as JSON, signed with HMAC-SHA256.

Headers: `X-Tracker-Timestamp` (unix seconds), `X-Tracker-Signature: sha256=HEX` where HEX is
HMAC-SHA256(secret, "<timestamp>." + body), and `X-Tracker-Delivery` (the task's marker for
this target, the same on every retry: a receiver keeps the ones it has seen and drops
repeats). A receiver refuses a timestamp older than its replay window (`verify`).
An answer with a JSON `{"id": ..., "url": ...}` names the receiver's own record.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx

from core.exports.document import Document
from core.exports.http import call
from core.exports.target import Refused, Remote, TargetConfig
from core.models import utcnow

REPLAY_WINDOW = 300.0
"""Seconds a receiver accepts a signed request for (`verify`'s default)."""


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    signed: str,
    *,
    now: float | None = None,
    window: float = REPLAY_WINDOW,
) -> bool:
    """A receiver's check: the signature matches and the timestamp is within the window."""
    try:
        age = (time.time() if now is None else now) - float(timestamp)
    except ValueError:
        return False
    return abs(age) <= window and hmac.compare_digest(signature(secret, timestamp, body), signed)


class Webhook:
    def __init__(self, config: TargetConfig, client: httpx.AsyncClient) -> None:
        if config.secret is None:
            raise Refused(f"target {config.name}: a webhook needs --secret to sign with")
        self.config, self.client, self.secret = config, client, config.secret.get_secret_value()

    async def find(self, doc: Document) -> Remote | None:
        return None  # a receiver is no tracker to search: X-Tracker-Delivery lets it drop repeats

    async def create(self, doc: Document) -> Remote:
        return await self._send("task.exported", doc)

    async def update(self, remote: Remote, doc: Document) -> None:
        await self._send("task.updated", doc)

    async def check(self) -> str:
        body = json.dumps({"schema": "task-tracker.export/1", "event": "ping"}).encode()
        await call(self.client, "POST", self.config.url, content=body, headers=self._headers(body, "ping"))
        return f"webhook {httpx.URL(self.config.url).host} answered"

    async def _send(self, event: str, doc: Document) -> Remote:
        body = json.dumps(doc.as_json(event, utcnow()), ensure_ascii=False).encode()
        response = await call(
            self.client, "POST", self.config.url, content=body, headers=self._headers(body, doc.marker)
        )
        named = _json(response)
        return Remote(str(named.get("id") or doc.marker), named.get("url"))

    def _headers(self, body: bytes, delivery: str) -> dict[str, str]:
        stamp = str(int(time.time()))
        return {
            "Content-Type": "application/json",
            "X-Tracker-Timestamp": stamp,
            "X-Tracker-Signature": signature(self.secret, stamp, body),
            "X-Tracker-Delivery": delivery,
        }


def _json(response: httpx.Response) -> dict[str, str]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
