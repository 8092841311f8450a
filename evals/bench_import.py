"""Telegram import benchmark: a generated Desktop export into PostgreSQL and the queue.

    uv run python -m evals.bench_import [--messages 200000] [--chats 1] [--no-classify]

Writes an export of realistic messages (several languages, a fifth of them replies, some
with entity arrays, photos and a forum topic) to a temporary file, imports it through
core on embedded PostgreSQL and NATS, and prints messages stored per second (target:
>= 20,000/s) and the process's peak memory, then times a second, idempotent import.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine, text

from core.runtime.system import System
from core.telegram.importer import ImportReport, import_export
from evals.harness import embedded_system

TEXTS = [
    "Після оновлення кнопка оплати не працює на iOS",
    "checkout returns 502 since the last deploy, can someone look?",
    "Можно добавить фильтр по датам в экспорт заказов?",
    "who has access to the App Store Connect account?",
    "дякую, все працює 👍",
    "у меня тоже не приходят пуши на android 14",
    "please renew the SSL certificate before Friday",
    "обід о 13? 🍕",
]


def write_export(out: IO[str], messages: int, chats: int, seed: int = 7) -> None:
    """A Desktop export (chats.list when chats > 1), written message by message."""
    rnd = random.Random(seed)
    per_chat = messages // chats
    if chats > 1:
        out.write('{"about": "benchmark", "chats": {"about": "", "list": [')
    for c in range(chats):
        header = {"name": f"Команда {c}", "type": "private_supergroup", "id": 1_700_000_000 + c}
        out.write(("," if c else "") + json.dumps(header, ensure_ascii=False)[:-1] + ', "messages": [')
        out.write(json.dumps({"id": 1, "type": "service", "action": "topic_created", "title": "Реліз",
                              "date_unixtime": "1795000000"}, ensure_ascii=False))  # fmt: skip
        for i in range(2, per_chat + 1):
            out.write("," + json.dumps(_message(rnd, i), ensure_ascii=False))
        out.write("]}")
    out.write("]}}" if chats > 1 else "")


def _message(rnd: random.Random, i: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": i, "type": "message", "date": "2026-11-18T10:00:00", "date_unixtime": str(1_795_000_000 + i),
        "from": rnd.choice(["Олена Коваль", "Dmytro", "Сергей", "Kate"]),
        "from_id": f"user{rnd.randint(1, 40)}",
        "text": f"{rnd.choice(TEXTS)} #{i}", "text_entities": [],
    }  # fmt: skip
    roll = rnd.random()
    if roll < 0.2:
        body["reply_to_message_id"] = max(1, i - rnd.randint(1, 30))
    elif roll < 0.25:
        body["text"] = ["see ", {"type": "link", "text": f"https://status.example.org/{i}"}, " — urgent"]
    elif roll < 0.27:
        body |= {"photo": "(File not included.)", "width": 1280, "height": 960}
    return body


async def run_import(system: System, path: Path, classify: bool) -> tuple[ImportReport, float]:
    services = await system.services()
    try:
        start = time.perf_counter()
        report = await import_export(services, path, classify=classify)
        return report, time.perf_counter() - start
    finally:
        await services.close()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--chats", type=int, default=1)
    parser.add_argument("--no-classify", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tracker-import-") as tmp, embedded_system() as system:
        path = Path(tmp) / "result.json"
        with path.open("w", encoding="utf-8") as out:
            write_export(out, args.messages, args.chats)
        size_mb = path.stat().st_size / 2**20
        memory_before = peak_mb()
        load = os.getloadavg()[0]
        report, seconds = asyncio.run(run_import(system, path, classify=not args.no_classify))
        print(f"load average before the import: {load:.2f} ({os.cpu_count()} cores)")
        print(f"export: {report.stats.messages:,} messages in {args.chats} chat(s), {size_mb:.0f} MB")
        print(f"stored: {report.stored:,} in {seconds:.1f} s = {report.stored / seconds:,.0f} messages/s")
        print(f"queued for classification: {report.queued:,} ({'off' if args.no_classify else 'on'})")
        print(f"peak memory: {peak_mb():.0f} MB (before the import: {memory_before:.0f} MB)")
        again, seconds = asyncio.run(run_import(system, path, classify=not args.no_classify))
        print(f"second import: {again.stored} new, {again.existing:,} known, {seconds:.1f} s")
        _check(system.engine, report.stored)


def _check(engine: Engine, stored: int) -> None:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT count(*) FROM messages")).scalar_one()
        linked = conn.execute(
            text("SELECT count(*) FROM messages WHERE reply_to_id IS NOT NULL")
        ).scalar_one()
        announced = conn.execute(
            text("SELECT count(*), coalesce(sum((payload ->> 'count')::int), 0) FROM events")
        ).one()
    print(f"check: {rows:,} rows in messages, {linked:,} replies linked")
    print(f"events: {announced[0]:,} (messages.imported, one a batch) for {announced[1]:,} messages")
    assert rows == stored == announced[1]


if __name__ == "__main__":
    main()
