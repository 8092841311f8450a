"""`tracker eval --conversations FILE --tasks FILE`: replay a chat through the pipeline, score its tasks.

The messages go, in time order, through ingestion and the classification pipeline into a
scratch database on the CLI's database server (dropped afterwards), with the local classifier.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path

from rich.table import Table
from sqlalchemy.exc import DBAPIError

from core.classification.dataset import DatasetError
from core.classification.local.store import ModelLoadError
from core.config import get_settings
from core.evaluation.conversations import Conversations, load_conversations
from core.evaluation.conversations_replay import evaluate_conversations, scratch_database
from core.evaluation.conversations_score import FIGURES as SCORE_FIGURES
from core.evaluation.conversations_score import ConversationScore
from core.evaluation.runs import RunSpec, build
from services.cli.database import database
from services.cli.output import Format, cell, console, err, fail

FIGURES = (*SCORE_FIGURES, ("seconds", "seconds"))


def _load(conversations: Path, tasks: Path) -> Conversations:
    try:
        return load_conversations(conversations, tasks)
    except DatasetError as e:
        raise fail(str(e)) from None


def _replay(data: Conversations, model: Path | None) -> ConversationScore:
    """The data set replayed into a scratch database and scored."""
    settings = get_settings()
    try:
        classifier = build(RunSpec("local", local_model=str(model) if model else None), settings)
    except ModelLoadError as e:
        raise fail(str(e)) from None
    with database(settings, start=True) as system:
        if system is None or not system.settings.database_url:
            raise fail("no database server: configure TRACKER_DATABASE_URL or let `tracker up` start one")
        server = system.settings.database_url
        try:
            with scratch_database(server) as engine:
                replay = evaluate_conversations(
                    data, engine=engine, settings=system.settings, classifier=classifier
                )
                return asyncio.run(replay)
        except DBAPIError as e:
            raise fail(f"the replay needs a scratch database on the server ({e.orig}); "
                       "use a database role that may CREATE DATABASE") from None  # fmt: skip


def eval_conversations(
    conversations: Path | None, tasks: Path | None, classifier: str, model: Path | None, fmt: Format
) -> None:
    """Print the figures of the tasks the local classifier opens from a conversations data set."""
    if classifier != "local":
        raise fail("--conversations evaluates the local classifier only (no LLM yet): drop --classifier")
    if conversations is None or tasks is None:
        raise fail("give both --conversations FILE.jsonl and --tasks TASKS.jsonl")
    data = _load(conversations, tasks)
    started = time.perf_counter()
    with (
        contextlib.nullcontext()
        if fmt == Format.json
        else err.status(f"replaying {len(data.messages)} messages…")
    ):
        result = _replay(data, model)
    report = {"conversations": str(conversations), "tasks": str(tasks), "classifier": "local",
              "messages": len(data.messages), **result.as_dict(),
              "seconds": round(time.perf_counter() - started, 1)}  # fmt: skip
    if fmt == Format.json:
        print(json.dumps(report, ensure_ascii=False))
        return
    table = Table(title=f"{conversations.name} · local")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for label, key in FIGURES:
        table.add_row(label, cell(report[key]))
    console.print(table)
