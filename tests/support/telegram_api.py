"""A stand-in for the Telegram Bot API over HTTP, and builders of the updates Telegram sends.

The real aiogram Bot talks to it (TRACKER_TELEGRAM_API_URL); it answers {"ok": true,
"result": ...} like Telegram, records every call, and serves queued updates to getUpdates.
It runs in its own thread, so a test may block on the API while the API calls it.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

BOT_ID = 123456
TOKEN = f"{BOT_ID}:TEST-token-abcdefghijklmnopqrstuvwxyz"
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "Tracker", "username": "tracker_test_bot"}
TEAM = {"id": -1001234567890, "type": "supergroup", "title": "Команда / Team", "is_forum": True}
OLENA = {"id": 501, "is_bot": False, "first_name": "Олена", "last_name": "Коваль"}
DMYTRO = {"id": 502, "is_bot": False, "first_name": "Dmytro"}
_ids = itertools.count(1000)
_updates = itertools.count(1)


class StandInTelegram:
    """Records calls as (method, params); params decoded from the form or JSON body."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.pending: list[dict[str, Any]] = []
        self.lock = threading.Condition()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        with self.lock:
            return [params for name, params in self.calls if name == method]

    def push(self, update: dict[str, Any]) -> None:
        """Queue an update for the next getUpdates."""
        with self.lock:
            self.pending.append(update)
            self.lock.notify_all()

    def answer(self, method: str, params: dict[str, Any]) -> Any:
        with self.lock:
            self.calls.append((method, params))
        if method == "getMe":
            return BOT_USER
        if method == "getUpdates":
            return self._updates(int(params.get("offset") or 0))
        if method == "sendMessage":
            return _sent_message(params)
        return True

    def _updates(self, offset: int) -> list[dict[str, Any]]:
        with self.lock:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
            if not self.pending:
                self.lock.wait(0.3)  # a short long-poll
            return list(self.pending)


def _sent_message(params: dict[str, Any]) -> dict[str, Any]:
    chat_id = int(params["chat_id"])
    return {
        "message_id": next(_ids),
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "supergroup" if chat_id < 0 else "private"},
        "from": BOT_USER,
        "text": params.get("text", ""),
    }


def _handler(stand_in: StandInTelegram) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            method = self.path.rsplit("/", 1)[-1]
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            result = stand_in.answer(method, _params(self.headers.get("Content-Type", ""), body))
            payload = json.dumps({"ok": True, "result": result}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def _params(content_type: str, body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    if content_type.startswith("application/json"):
        return dict(json.loads(body))
    return dict(parse_qsl(body.decode()))


@contextmanager
def stand_in_telegram() -> Iterator[StandInTelegram]:
    stand_in = StandInTelegram()
    thread = threading.Thread(target=stand_in.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stand_in
    finally:
        stand_in.server.shutdown()
        stand_in.server.server_close()


# --- updates, as Telegram sends them ------------------------------------------------------


def message(
    text: str | None = "", *, chat: dict[str, Any] = TEAM, user: dict[str, Any] = OLENA, **extra: Any
) -> dict[str, Any]:
    """A Bot API Message object (ids and dates increase like Telegram's). Messages are four
    days apart unless `date` is given: unrelated messages of the tests never form one
    conversation unless they reply to each other."""
    message_id = next(_ids)
    body: dict[str, Any] = {"message_id": message_id, "date": 1_800_000_000 + message_id * 4 * 86_400}
    body |= {"chat": chat, "from": user}
    if text is not None:
        body["text"] = text
    if text and text.startswith("/"):
        body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return body | extra


def update(**kinds: Any) -> dict[str, Any]:
    """An Update carrying one of message / edited_message / my_chat_member."""
    return {"update_id": next(_updates), **kinds}


def bot_added(chat: dict[str, Any], by: dict[str, Any] = OLENA) -> dict[str, Any]:
    """The my_chat_member update Telegram sends when the bot joins a chat."""
    return update(
        my_chat_member={
            "chat": chat,
            "from": by,
            "date": 1_800_000_000,
            "old_chat_member": {"status": "left", "user": BOT_USER},
            "new_chat_member": {"status": "member", "user": BOT_USER},
        }
    )
