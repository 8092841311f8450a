"""`tracker train`: train the local classifier and make it the active one."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from core.classification.dataset import SEED_PATH, DatasetError, load_jsonl
from core.classification.local.training import TrainingResult, train_local_model
from core.config import get_settings
from services.cli.database import database
from services.cli.output import Format, console, fail
from services.cli.train_conversations import train_scorer


def _report(result: TrainingResult, use_db: bool) -> dict[str, Any]:
    art = result.artifact
    return {"version": art.version, "path": str(result.path), "n_examples": art.n_examples,
            "sources": result.sources, "database": use_db, "metrics": art.metrics}  # fmt: skip


def _print_report(report: dict[str, Any]) -> None:
    table = Table(title=f"local model {report['version']}", show_header=False)
    for key in ("path", "n_examples", "sources", "database"):
        table.add_row(key, str(report[key]))
    for key, value in report["metrics"].items():
        if key not in ("classes", "n_examples"):
            table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
    console.print(table)


LabelledChats = Annotated[
    list[Path] | None,
    typer.Option(
        "--conversations", help="Train the conversation scorer on this labelled chat instead (repeatable)"
    ),
]
GoldTasks = Annotated[
    list[Path] | None,
    typer.Option("--tasks", help="The chat's gold tasks: one per --conversations, in order"),
]
ScorerOut = Annotated[
    Path | None, typer.Option("--out", help="Where to write the scorer (with --conversations)")
]


def train_cmd(
    examples: Annotated[Path, typer.Option(help="Seed examples (JSON Lines)")] = SEED_PATH,
    db: Annotated[
        bool | None,
        typer.Option(
            "--db/--no-db",
            help="Add human labels from the database and register the "
            "model (default: when a database is reachable)",
        ),
    ] = None,
    llm_min_confidence: Annotated[
        float | None, typer.Option(help="Also train on LLM labels at or above this confidence")
    ] = None,
    fmt: Annotated[Format, typer.Option("--format")] = Format.table,
    conversations: LabelledChats = None,
    tasks: GoldTasks = None,
    out: ScorerOut = None,
) -> None:
    """Train the local classifier (seed examples + human triage decisions) and activate it;
    with --conversations, the conversation scorer instead."""
    if conversations:
        return _train_scorer(conversations, tasks or [], out)
    settings = get_settings()
    try:
        rows = load_jsonl(examples)
    except DatasetError as e:
        raise fail(str(e)) from None
    with database(settings, start=bool(db)) as system:
        use_db = system is not None and db is not False
        with system.session() if use_db and system else contextlib.nullcontext() as labels:
            result = train_local_model(rows, settings.runtime_dir, labels,
                                       llm_min_confidence=llm_min_confidence)  # fmt: skip
    report = _report(result, use_db)
    if fmt == Format.json:
        print(json.dumps(report, ensure_ascii=False))
        return
    _print_report(report)


def _train_scorer(conversations: list[Path], tasks: list[Path], out: Path | None) -> None:
    if len(tasks) != len(conversations):
        raise fail(
            f"give each chat's gold tasks: one --tasks TASKS.jsonl per --conversations "
            f"({len(conversations)} --conversations, {len(tasks)} --tasks)"
        )
    try:
        train_scorer(list(zip(conversations, tasks, strict=True)), out)
    except (DatasetError, ValueError) as e:
        raise fail(str(e)) from None


def register(app: typer.Typer) -> None:
    """Add `tracker train` to the `tracker` app."""
    app.command("train")(train_cmd)
