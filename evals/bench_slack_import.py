"""Slack export import benchmark: a generated workspace export zip into PostgreSQL and the queue.

    uv run python -m evals.bench_slack_import [--messages 200000] [--channels 4] [--no-classify]

Writes a workspace export (channels.json, users.json, one folder per channel, one JSON file
per day of 500 messages: several languages, a fifth of them thread replies, some with Slack
markup, file shares, bot posts and joins) to a temporary zip, imports it through core on
embedded PostgreSQL and NATS, and prints messages stored per second (target: >= 20,000/s),
then times a second, idempotent import.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from core.runtime.system import System
from core.slack.importer import SlackImportReport, import_slack_export
from evals.bench_import import TEXTS, _check, peak_mb
from evals.harness import embedded_system

PER_DAY = 500
START_TS = 1_795_000_000


def write_export(path: Path, messages: int, channels: int, seed: int = 7) -> None:
    rnd = random.Random(seed)
    users = [{"id": f"U{n:04d}", "name": f"user{n}", "real_name": f"Користувач {n}"} for n in range(40)]
    listed = [{"id": f"C{c:04d}", "name": f"support-{c}"} for c in range(channels)]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("users.json", json.dumps(users, ensure_ascii=False))
        archive.writestr("channels.json", json.dumps(listed))
        per_channel = messages // channels
        for channel in listed:
            for day in range(0, per_channel, PER_DAY):
                batch = [_message(rnd, day + i) for i in range(min(PER_DAY, per_channel - day))]
                name = f"{channel['name']}/{date(2026, 1, 1) + timedelta(days=day // PER_DAY)}.json"
                archive.writestr(name, json.dumps(batch, ensure_ascii=False))


def _message(rnd: random.Random, i: int) -> dict[str, Any]:
    ts = f"{START_TS + i}.000100"
    body: dict[str, Any] = {"type": "message", "user": f"U{rnd.randint(0, 39):04d}", "ts": ts,
                            "text": f"{rnd.choice(TEXTS)} #{i}"}  # fmt: skip
    roll = rnd.random()
    if roll < 0.2 and i > 30:
        body["thread_ts"] = f"{START_TS + i - rnd.randint(1, 30)}.000100"
    elif roll < 0.25:
        body["text"] = f"<@U{rnd.randint(0, 39):04d}> see <https://status.example.org/{i}|status> &amp; logs"
    elif roll < 0.27:
        body |= {"subtype": "file_share", "files": [{"title": f"screenshot-{i}.png"}]}
    elif roll < 0.28:
        body |= {"subtype": "bot_message", "bot_id": "B0001", "text": "deploy finished"}
    return body


async def run_import(system: System, path: Path, classify: bool) -> tuple[SlackImportReport, float]:
    services = await system.services()
    try:
        start = time.perf_counter()
        report = await import_slack_export(services, path, classify=classify)
        return report, time.perf_counter() - start
    finally:
        await services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--channels", type=int, default=4)
    parser.add_argument("--no-classify", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tracker-slack-") as tmp, embedded_system() as system:
        path = Path(tmp) / "export.zip"
        write_export(path, args.messages, args.channels)
        load = os.getloadavg()[0]
        report, seconds = asyncio.run(run_import(system, path, classify=not args.no_classify))
        stats = report.stats
        print(f"load average before the import: {load:.2f} ({os.cpu_count()} cores)")
        size = path.stat().st_size / 2**20
        print(f"export: {stats.messages:,} messages, {stats.channels} channels, {stats.days:,} day files, ")
        print(f"  {size:.0f} MB zipped; {stats.skipped:,} bot messages skipped")
        print(f"stored: {report.stored:,} in {seconds:.1f} s = {report.stored / seconds:,.0f} messages/s")
        print(f"queued for classification: {report.queued:,}; peak memory {peak_mb():.0f} MB")
        again, seconds = asyncio.run(run_import(system, path, classify=not args.no_classify))
        print(f"second import: {again.stored} new, {again.existing:,} known, {seconds:.1f} s")
        _check(system.engine, report.stored)


if __name__ == "__main__":
    main()
