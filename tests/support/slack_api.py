"""A stand-in for the Slack Web API methods the tracker calls (users.info), written from
Slack's method documentation: GET or POST /api/users.info?user=U… with `Authorization: Bearer
xoxb-…`, answering {"ok": true, "user": {...}} or {"ok": false, "error": "user_not_found"};
HTTP 429 with Retry-After when rate limited. It records every call and runs in its own
thread, so a test may block on the API while the API calls it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

BOT_TOKEN = "xoxb-0000-test-token"
USERS = {
    "U0OLENA": {"id": "U0OLENA", "name": "olena", "real_name": "Олена Коваль",
                "profile": {"real_name": "Олена Коваль", "display_name": "olena"}},
    "U0MARTA": {"id": "U0MARTA", "name": "marta", "profile": {"real_name": "", "display_name": "Marta S."}},
    "U0IVAN": {"id": "U0IVAN", "name": "ivan", "real_name": "", "profile": {"real_name": "", "display_name": "Ivan P."}},
}  # fmt: skip


class StandInSlack:
    """Records calls as (method, params); `rate_limited` users get HTTP 429."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.rate_limited: set[str] = set()
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    def asked(self, user: str) -> int:
        """How many users.info calls asked for this user."""
        with self.lock:
            return sum(
                1 for method, params in self.calls if method == "users.info" and params.get("user") == user
            )

    def answer(self, method: str, params: dict[str, str], token: str | None) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.calls.append((method, params))
        if token != BOT_TOKEN:
            return 200, {"ok": False, "error": "invalid_auth"}
        if method != "users.info":
            return 200, {"ok": False, "error": "unknown_method"}
        if params.get("user") in self.rate_limited:
            return 429, {"ok": False, "error": "ratelimited"}
        user = USERS.get(params.get("user", ""))
        return 200, ({"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"})


def _handler(stand_in: StandInSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer(b"")

        def do_POST(self) -> None:  # Slack takes a method's arguments in the query or a form body
            self._answer(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

        def _answer(self, form: bytes) -> None:
            parts = urlsplit(self.path)
            params = dict(parse_qsl(parts.query)) | dict(parse_qsl(form.decode()))
            auth = self.headers.get("Authorization", "")
            token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
            status, body = stand_in.answer(parts.path.rsplit("/", 1)[-1], params, token)
            payload = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            if status == 429:
                self.send_header("Retry-After", "30")
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextmanager
def stand_in_slack() -> Iterator[StandInSlack]:
    stand_in = StandInSlack()
    thread = threading.Thread(target=stand_in.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stand_in
    finally:
        stand_in.server.shutdown()
        stand_in.server.server_close()
