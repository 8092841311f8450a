"""A webhook receiver on loopback (a real HTTP server in a thread) that checks our signature,
keeps each delivery once, and answers from a script: 200, 500, 429 with Retry-After, or a stall."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from core.exports.webhook import verify


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    stall: float = 0.0
    """Seconds to wait before answering (longer than the client's timeout: a timeout)."""


@dataclass
class Receiver:
    secret: str
    script: list[Answer] = field(default_factory=list)
    """Answers for the next requests, in order; then 200 (or `every` when set)."""
    every: Any = None
    """A function of the request count giving an Answer, for long runs (429 every third call)."""
    requests: list[dict[str, Any]] = field(default_factory=list)
    kept: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Deliveries kept, by X-Tracker-Delivery: a repeat is acknowledged and dropped."""
    bad_signatures: int = 0
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, headers: Any, body: bytes) -> Answer:
        signed = verify(self.secret, headers.get("X-Tracker-Timestamp", ""), body,
                        headers.get("X-Tracker-Signature", ""))  # fmt: skip
        with self.lock:
            request = {"headers": dict(headers), "body": body, "signed": signed, "status": 401}
            self.requests.append(request)
            if not signed:
                self.bad_signatures += 1
                return Answer(401)
            reply = (
                self.script.pop(0)
                if self.script
                else self.every(len(self.requests))
                if self.every
                else Answer()
            )
            request["status"] = reply.status
            if reply.status < 300:
                self.kept.setdefault(headers["X-Tracker-Delivery"], json.loads(body))
            return reply


@contextmanager
def running(receiver: Receiver) -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            reply = receiver.answer(self.headers, body)
            if reply.stall:
                threading.Event().wait(reply.stall)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    return Handler
