"""End-to-end benchmark: API -> PostgreSQL -> NATS queue -> worker (instant LLM) -> /ws.

    uv run python -m evals.bench_e2e [--messages 5000] [--batch 1000] [--rate 100] [--seconds 20]
                                     [--workers 1 | --worker-here]

Embedded PostgreSQL and NATS in a temporary data dir, the API as a subprocess, the worker
(services.worker.main.run_worker with the real LLM classifier over a pydantic-ai FunctionModel
that answers instantly) as --workers processes of this module, as in production (--worker-here
runs one in this process instead, sharing the load generator's event loop), and a WebSocket
client on /ws. Prints:
  (a) seconds from the first post of --messages messages (batches of --batch) until every
      message.classified event arrived on /ws (target: 5,000 within 15 s);
  (b) post-to-event latency percentiles at a steady --rate messages/s for --seconds
      (target: p50 <= 100 ms at 100 messages/s).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import httpx
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    UserPromptPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.usage import RequestUsage
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from core.classification.factory import build_classifier
from core.classification.types import Classifier
from core.config import Settings
from core.runtime.embedded import child_env
from core.runtime.system import System, open_system
from evals.harness import api_server, auth, chat_message, cpu_seconds, embedded_system
from evals.stand_in_llm import read_batch
from services.worker.main import run_worker

KINDS = ["bug", "feature", "question", "task", "noise"]
WORKER_ENV = {"TRACKER_CLASSIFIER": "llm", "TRACKER_LLM_OUTPUT_MODE": "prompted"}
IN_FLIGHT = 50
"""Posts of (b) waiting for an answer at most (httpx pools 100 connections)."""


def instant_answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """A valid classification of every fenced message, at once."""
    prompt = next(
        p.content
        for m in messages
        if isinstance(m, ModelRequest)
        for p in m.parts
        if isinstance(p, UserPromptPart) and isinstance(p.content, str)
    )
    items = []
    for i, message in enumerate(read_batch(prompt)):
        kind = KINDS[i % len(KINDS)]
        priority = None if kind == "noise" else "medium"
        items.append({"id": message.id, "kind": kind, "priority": priority, "title": message.text[:60],
                      "confidence": 0.9})  # fmt: skip
    usage = RequestUsage(input_tokens=50 * len(items), output_tokens=20 * len(items))
    if info.output_tools:
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, {"items": items})], usage=usage)
    return ModelResponse(parts=[TextPart(json.dumps({"items": items}))], usage=usage)


def instant_classifier(system: System) -> Classifier:
    """The configured LLM classifier (batching, cache, prompt) over the instant model."""
    model = FunctionModel(instant_answer, model_name="instant")
    return build_classifier(system.settings, "llm", engine=system.engine, model=model)


@contextlib.asynccontextmanager
async def worker_here(system: System) -> AsyncIterator[None]:
    """run_worker in this process."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_worker(system.settings, classifier=instant_classifier(system), stop=stop))
    try:
        yield
    finally:
        stop.set()
        await task


@contextlib.contextmanager
def worker_processes(settings: Settings, count: int) -> Iterator[list[int]]:
    """run_worker in processes of their own (this module with --as-worker), stopped by SIGTERM."""
    env = child_env(settings) | {"TRACKER_QUEUE_NAME": settings.queue_name} | WORKER_ENV
    command = [sys.executable, "-m", "evals.bench_e2e", "--as-worker"]
    procs = [subprocess.Popen(command, env=env) for _ in range(count)]
    try:
        yield [proc.pid for proc in procs]
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(30)


@dataclass
class CpuMeter:
    """CPU time of the system's processes during one phase, per message."""

    pids: dict[str, list[int]]
    start: dict[str, float] = field(default_factory=dict)

    def used(self) -> dict[str, float]:
        return {name: sum(cpu_seconds(pid) for pid in pids) for name, pids in self.pids.items()}

    def reset(self) -> None:
        self.start = self.used()

    def per_message(self, n: int) -> str:
        used = {name: seconds - self.start[name] for name, seconds in self.used().items()}
        return ", ".join(f"{name} {seconds * 1000 / n:.2f}" for name, seconds in used.items())


class Classified:
    """Arrival time of each message.classified event on /ws, by message id."""

    def __init__(self, ws_url: str, headers: dict[str, str]) -> None:
        self.ws_url = ws_url
        self.headers = headers
        self.at: dict[int, float] = {}
        self.changed = asyncio.Event()
        self.last_seq: int | None = None
        self.reconnects = 0

    async def listen(self) -> None:
        """Read events; a dropped connection resumes with ?since=<last seq> (nothing is missed)."""
        while True:
            query = "" if self.last_seq is None else f"?since={self.last_seq}"
            try:
                async with connect(self.ws_url + query, additional_headers=self.headers, max_size=None,
                                   max_queue=None, compression=None) as ws:  # fmt: skip
                    await self._read(ws)
            except (ConnectionClosed, TimeoutError, OSError):  # dropped, or a handshake the loaded API missed
                self.reconnects += 1

    async def _read(self, ws: ClientConnection) -> None:
        async for raw in ws:
            now = time.perf_counter()
            event = json.loads(raw)
            self.last_seq = event["seq"]
            if event["type"] == "message.classified":
                self.at.setdefault(event["payload"]["message_id"], now)
                self.changed.set()

    async def wait_for(self, ids: set[int], within: float) -> None:
        deadline = time.perf_counter() + within
        while not ids <= self.at.keys():
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), max(0.0, deadline - time.perf_counter()))


async def burst(
    http: httpx.AsyncClient, classified: Classified, total: int, batch: int, cpu: CpuMeter
) -> float:
    """(a) Post `total` messages in batches from 4 clients; seconds until all are classified on /ws."""
    batches = [
        [chat_message("burst", i) for i in range(s, min(s + batch, total))] for s in range(0, total, batch)
    ]
    ids: set[int] = set()
    cpu.reset()
    start = time.perf_counter()

    async def post(chunk: list[dict[str, object]]) -> None:
        response = await http.post("/api/messages/batch", json={"messages": chunk})
        response.raise_for_status()
        ids.update(item["id"] for item in response.json()["items"])

    for group in range(0, len(batches), 4):
        await asyncio.gather(*(post(chunk) for chunk in batches[group : group + 4]))
    posted = time.perf_counter() - start
    await classified.wait_for(ids, within=300)
    done = max(classified.at[i] for i in ids) - start
    print(f"(a) {len(ids)} messages in batches of {batch}: posted in {posted:.2f} s, "
          f"all message.classified on /ws after {done:.2f} s  (target <= 15 s)")  # fmt: skip
    print(f"    CPU ms per message: {cpu.per_message(len(ids))}")
    return done


async def steady(
    http: httpx.AsyncClient, classified: Classified, rate: float, seconds: float, cpu: CpuMeter
) -> list[float]:
    """(b) One message every 1/rate s; latency from just before its POST to its event on /ws.
    At most IN_FLIGHT posts wait for an answer: more would queue in httpx's connection pool,
    whose cost grows with the queue until this process takes the CPU the system needs; a post
    that waits for its turn here counts the wait in its latency."""
    sent: dict[int, float] = {}
    in_flight = asyncio.Semaphore(IN_FLIGHT)
    cpu.reset()
    start = time.perf_counter()

    async def post(i: int) -> None:
        await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
        t0 = time.perf_counter()
        async with in_flight:
            response = await http.post("/api/messages", json=chat_message("steady", i))
        response.raise_for_status()
        sent[response.json()["id"]] = t0

    await asyncio.gather(*(post(i) for i in range(int(rate * seconds))))
    await classified.wait_for(set(sent), within=600)
    latencies = sorted((classified.at[i] - t0) * 1000 for i, t0 in sent.items())
    achieved = len(sent) / (max(sent.values()) - start)
    q = statistics.quantiles(latencies, n=100)
    print(f"(b) {len(sent)} messages at {achieved:.0f}/s: post -> message.classified on /ws "
          f"p50 {q[49]:.0f} ms, p95 {q[94]:.0f} ms, p99 {q[98]:.0f} ms, max {latencies[-1]:.0f} ms "
          "(target p50 <= 100 ms)")  # fmt: skip
    print(f"    CPU ms per message: {cpu.per_message(len(sent))}")
    return latencies


async def main_async(args: argparse.Namespace, system: System, url: str, cpu: CpuMeter) -> None:
    settings = system.settings
    ws_url = url.replace("http://", "ws://") + "/ws"
    classified = Classified(ws_url, auth(settings))
    async with (
        worker_here(system) if args.worker_here else contextlib.nullcontext(),
        # Posts queue for a connection as long as they must: a loaded API shows up as latency.
        httpx.AsyncClient(
            base_url=url, headers=auth(settings), timeout=httpx.Timeout(120, pool=None)
        ) as http,
    ):
        listener = asyncio.create_task(classified.listen())
        await steady(http, classified, 20, 2, cpu)  # warm-up: connections, caches, worker start
        print("(warm-up above)")
        await burst(http, classified, args.messages, args.batch, cpu)
        await steady(http, classified, args.rate, args.seconds, cpu)
        listener.cancel()
    if classified.reconnects:
        print(f"the WebSocket client reconnected {classified.reconnects} times (resuming with ?since=)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument("--worker-here", action="store_true", help="run one worker in this process")
    parser.add_argument("--as-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.as_worker:
        with open_system(Settings(), migrate=False) as system:
            asyncio.run(run_worker(system.settings, classifier=instant_classifier(system)))
        return
    overrides = {"classifier": "llm", "llm_output_mode": "prompted"}
    with (
        embedded_system(**overrides) as system,
        api_server(system.settings) as api,
        worker_processes(system.settings, 0 if args.worker_here else args.workers) as workers,
    ):
        where = "this process" if args.worker_here else f"{args.workers} process(es) of its own"
        print(f"load average {os.getloadavg()[0]:.1f}; the worker runs in {where}")
        processes = {"api": [api.pid], "worker": workers, "this process": [os.getpid()]}
        cpu = CpuMeter({name: pids for name, pids in processes.items() if pids})
        asyncio.run(main_async(args, system, api.url, cpu))
        print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
