"""Batch ingest benchmark: POST /api/messages/batch into PostgreSQL and the queue.

    uv run python -m evals.bench_ingest [--batches 30] [--batch-size 1000] [--clients 4]

Starts embedded PostgreSQL and NATS in a temporary data dir and one API process, then
posts batches from concurrent clients and prints messages/s (target: >= 1,000/s on two
cores). Checks that every message is stored and queued for classification.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

import httpx
from nats.aio.client import Client as NATS
from sqlalchemy import Engine, text

from core.config import Settings
from core.runtime.queue import stream_name
from evals.harness import api_server, auth, chat_message, cpu_seconds, embedded_system


async def post_batches(
    url: str, settings: Settings, batches: list[list[dict[str, object]]], clients: int
) -> list[float]:
    """Post every batch, `clients` at a time; returns each request's seconds."""
    queue: asyncio.Queue[list[dict[str, object]]] = asyncio.Queue()
    for batch in batches:
        queue.put_nowait(batch)
    latencies: list[float] = []

    async def client() -> None:
        async with httpx.AsyncClient(base_url=url, headers=auth(settings), timeout=120) as http:
            while not queue.empty():
                batch = queue.get_nowait()
                start = time.perf_counter()
                response = await http.post("/api/messages/batch", json={"messages": batch})
                response.raise_for_status()
                latencies.append(time.perf_counter() - start)

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies


async def queued_tasks(settings: Settings) -> int:
    """Messages waiting in the classification stream (no worker runs here)."""
    nc = NATS()
    await nc.connect(settings.nats_url or "")
    info = await nc.jetstream().stream_info(stream_name(settings))
    await nc.close()
    return int(info.state.messages)


def stored_messages(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM messages")).scalar_one())


def run(batches: int, batch_size: int, clients: int) -> None:
    with embedded_system() as system, api_server(system.settings) as api:
        settings = system.settings
        warmup = [[chat_message("warm", i) for i in range(batch_size)]]
        asyncio.run(post_batches(api.url, settings, warmup, 1))
        work = [[chat_message(f"b{b}", i) for i in range(batch_size)] for b in range(batches)]
        cpu, start = cpu_seconds(api.pid), time.perf_counter()
        latencies = asyncio.run(post_batches(api.url, settings, work, clients))
        seconds, cpu = time.perf_counter() - start, cpu_seconds(api.pid) - cpu
        total = batches * batch_size
        print(
            f"posted {total} messages in {batches} batches of {batch_size} from {clients} clients "
            f"(load average {os.getloadavg()[0]:.1f})"
        )
        print(f"  {seconds:.2f} s  ->  {total / seconds:,.0f} messages/s")
        print(
            f"  per batch: median {statistics.median(latencies) * 1000:.0f} ms, "
            f"max {max(latencies) * 1000:.0f} ms; API process CPU {cpu * 1e6 / total:.0f} µs per message"
        )
        print(f"  stored: {stored_messages(system.engine)} messages (incl. {batch_size} warm-up)")
        print(f"  queued: {asyncio.run(queued_tasks(settings))} classification tasks (up to 50 ids each)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    run(args.batches, args.batch_size, args.clients)


if __name__ == "__main__":
    main()
