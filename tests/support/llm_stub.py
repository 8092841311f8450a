"""A stand-in LLM server on loopback that speaks enough of the OpenAI and Ollama HTTP APIs:
model lists for probes, and chat completions that label each fenced message by keyword."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from core.models import Kind
from evals.stand_in_llm import read_batch, read_conversations, summary_item
from tests.support.classifiers import keyword_kind

ALL_BUGS = "LABEL EVERY MESSAGE AS A BUG"
"""A prompt containing this line makes the stub answer `bug` for everything (a worse prompt)."""


@dataclass
class StubLLM:
    """What the stub was asked: the system prompts and the message texts of every completion."""

    url: str = ""
    models: list[str] = field(default_factory=lambda: ["stub:latest"])
    instructions: list[str] = field(default_factory=list)
    batches: list[list[str]] = field(default_factory=list)
    summaries: list[list[str]] = field(default_factory=list)
    """The task ids of every summary call (core.conversations.summaries)."""
    in_flight: int = 0
    most_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        """A chat completion whose content is the batch result JSON."""
        system = "\n".join(_text(m) for m in body["messages"] if m["role"] == "system")
        user = "\n".join(_text(m) for m in body["messages"] if m["role"] == "user")
        self.instructions.append(system)
        content = json.dumps(
            {"items": self._summaries(user) or self._classified(system, user)}, ensure_ascii=False
        )
        return {
            "id": "stub", "object": "chat.completion", "created": 0, "model": body.get("model", "stub"),
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
        }  # fmt: skip

    def _summaries(self, user: str) -> list[dict[str, Any]]:
        threads = read_conversations(user)
        if threads:
            self.summaries.append(list(threads))
        return [summary_item(task, texts) for task, texts in threads.items()]

    def _classified(self, system: str, user: str) -> list[dict[str, Any]]:
        fenced = read_batch(user)
        self.batches.append([m.text for m in fenced])
        return [_item(m.id, Kind.bug if ALL_BUGS in system else keyword_kind(m.text)) for m in fenced]


def _text(message: dict[str, Any]) -> str:
    content = message.get("content") or ""
    if isinstance(content, list):
        return "\n".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def _item(message_id: str, kind: Kind) -> dict[str, Any]:
    priority = None if kind == Kind.noise else "medium"
    return {"id": message_id, "kind": kind.value, "priority": priority, "title": "stub", "confidence": 0.9}


def _handler(stub: StubLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return None

        def _send(self, payload: dict[str, Any], status: int = 200) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/v1/models":
                self._send({"object": "list", "data": [{"id": m, "object": "model"} for m in stub.models]})
            elif self.path.rstrip("/") == "/api/tags":
                self._send({"models": [{"name": m} for m in stub.models]})
            else:
                self._send({"error": "not found"}, 404)

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            if self.path.rstrip("/") == "/v1/chat/completions":
                with stub.lock:
                    stub.in_flight += 1
                    stub.most_in_flight = max(stub.most_in_flight, stub.in_flight)
                try:
                    self._send(stub.answer(body))
                finally:
                    with stub.lock:
                        stub.in_flight -= 1
            else:
                self._send({"error": "not found"}, 404)

    return Handler


@contextmanager
def stub_llm_server(models: list[str] | None = None) -> Iterator[StubLLM]:
    """The stub on a free loopback port for the duration of the block."""
    stub = StubLLM(models=models or ["stub:latest"])
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub))
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
