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
from core.conversations.corrections import corrected_chats
from core.conversations.training import Labelled
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
Corrected = Annotated[
    bool,
    typer.Option(
        "--corrected",
        help="Train the conversation scorer also on the chats people regrouped (merges, moves) "
        "in the database",
    ),
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
    corrected: Corrected = False,
    out: ScorerOut = None,
) -> None:
    """Train the local classifier (seed examples + human triage decisions) and activate it;
    with --conversations or --corrected, the conversation scorer instead."""
    if conversations or corrected:
        return _train_scorer(conversations or [], tasks or [], out, corrected)
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


def _train_scorer(conversations: list[Path], tasks: list[Path], out: Path | None, corrected: bool) -> None:
    if len(tasks) != len(conversations):
        raise fail(
            f"give each chat's gold tasks: one --tasks TASKS.jsonl per --conversations "
            f"({len(conversations)} --conversations, {len(tasks)} --tasks)"
        )
    try:
        train_scorer(list(zip(conversations, tasks, strict=True)), out, _corrections() if corrected else [])
    except (DatasetError, ValueError) as e:
        raise fail(str(e)) from None


def _corrections() -> list[Labelled]:
    """The chats people regrouped, read from the running database."""
    with database(get_settings(), start=False) as system:
        if system is None:
            raise fail(
                "--corrected reads the database and none answers: "
                "start it (tracker up) or set TRACKER_DATABASE_URL"
            )
        with system.session() as session:
            return corrected_chats(session)


def register(app: typer.Typer) -> None:
    """Add `tracker train` to the `tracker` app."""
    app.command("train")(train_cmd)
