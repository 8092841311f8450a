"""Slack as the tests see it: Events API requests signed here (Slack's v0 scheme, written from
its documentation, not with the library under test) and workspace exports built as zips."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import zipfile
from pathlib import Path
from typing import Any

SIGNING_SECRET = "slack-signing-secret-4f2a"
CHANNELS = ("C0SUPPORT", "C0PRODUCT")
USERS = [
    {"id": "U0OLENA", "name": "olena", "real_name": "Олена Коваль"},
    {"id": "U0IVAN", "name": "ivan", "profile": {"real_name": "", "display_name": "Ivan P."}},
]


def signed(
    body: dict[str, Any] | bytes, *, secret: str = SIGNING_SECRET, at: float | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and the headers Slack sends with it, signed at `at` (default: now)."""
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    stamp = str(int(time.time() if at is None else at))
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + raw, hashlib.sha256).hexdigest()
    headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}",
               "Content-Type": "application/json"}  # fmt: skip
    return raw, headers


def callback(event: dict[str, Any], event_id: str = "Ev01") -> dict[str, Any]:
    """An event_callback envelope around one event."""
    return {"token": "unused", "team_id": "T0TEAM", "api_app_id": "A0APP", "type": "event_callback",
            "event_id": event_id, "event_time": int(time.time()), "event": event}  # fmt: skip


def message(channel: str, ts: str, text: str, user: str = "U0OLENA", **extra: Any) -> dict[str, Any]:
    return {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts,
            "event_ts": ts, "channel_type": "channel"} | extra  # fmt: skip


def export_zip(
    path: Path, days: dict[str, dict[str, list[Any] | bytes]], channels: dict[str, str] | None = None
) -> Path:
    """A workspace export: channels.json (name -> id), users.json, folder/day.json files."""
    listed = channels or {"support": "C0SUPPORT", "product": "C0PRODUCT"}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("channels.json", json.dumps([{"id": i, "name": n} for n, i in listed.items()]))
        archive.writestr("users.json", json.dumps(USERS, ensure_ascii=False))
        for folder, files in days.items():
            for day, content in files.items():
                data = (
                    content
                    if isinstance(content, bytes)
                    else json.dumps(content, ensure_ascii=False).encode()
                )
                archive.writestr(f"{folder}/{day}.json", data)
    return path


def exported(ts: str, text: str, user: str = "U0OLENA", **extra: Any) -> dict[str, Any]:
    """One message as an export writes it (no channel field: the folder says it)."""
    return {"type": "message", "user": user, "text": text, "ts": ts} | extra
