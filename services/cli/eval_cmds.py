"""`tracker eval`: score a classifier on a labeled data set, or run the NLBSE'24 benchmark.

The data sources, the classifier and the runner are core.evaluation's, as in the notebooks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from core.classification.dataset import DatasetError
from core.classification.local.store import ModelLoadError
from core.classification.prompts import DEFAULT_PROMPT, PromptVersion, as_version, get_prompt
from core.classification.types import LLMUnavailable
from core.config import ClassifierMode, Settings, get_settings
from core.evaluation import data as eval_data
from core.evaluation.runner import EvalResult, pydantic_evals_report
from core.evaluation.runs import RunSpec, run_spec
from core.evaluation.stored import save_eval_run
from core.evaluation.workbench import LLM_SETUP, llm_config_problem
from core.runtime.system import System
from services.cli.database import database
from services.cli.eval_conversations import eval_conversations
from services.cli.output import Format, cell, console, err, fail, warn

LLM_HELP = f"No LLM is configured or reachable. {LLM_SETUP}\nEvaluate it with --classifier local."
SCORE_KEYS = (
    "n", "accuracy", "macro_f1", "priority_accuracy", "accuracy_at_conf_0_9", "coverage_at_conf_0_9",
    "llm_calls", "tokens", "needs_review", "seconds", "messages_per_second", "eval_run_id",
)  # fmt: skip


class Mode(StrEnum):
    local = "local"
    llm = "llm"
    cascade = "cascade"


class Benchmark(StrEnum):
    nlbse24 = "nlbse24"


def _eval_data(dataset: str, system: System | None) -> eval_data.EvalData:
    """The data set --dataset names: a JSON Lines file, or `db` for the triaged messages."""
    if dataset != "db":
        try:
            return eval_data.from_file(dataset)
        except DatasetError as e:
            raise fail(str(e)) from None
    if not system:
        raise fail("--dataset db needs the database: start it (`tracker up`) or add --save")
    with system.session() as db:
        data = eval_data.triaged(db)
    if not data.examples:
        raise fail("the database holds no human labels yet (triage some messages first)")
    return data


def _prompt_version(version: str, system: System | None) -> PromptVersion:
    if version == DEFAULT_PROMPT.version:
        return DEFAULT_PROMPT
    if not system:
        raise fail(f"prompt {version!r}: prompt versions live in the database; none is reachable "
                   "(start one with `tracker up`, or pass --save to start the embedded one)")  # fmt: skip
    with system.session() as db:
        row = get_prompt(db, version)
        if row is None:
            raise fail(f"no prompt version {version!r} (see `tracker prompts list`)")
        return as_version(row)


def _spec(
    settings: Settings, mode: Mode, prompt: str | None, model: Path | None, system: System | None
) -> RunSpec:
    """The configuration under evaluation (the LLM settings checked before anything is asked)."""
    local_model = str(model) if model else None
    if mode == Mode.local:
        return RunSpec("local", local_model=local_model)
    if llm_config_problem(settings):
        raise fail(LLM_HELP, 3)
    version = _prompt_version(prompt, system) if prompt else None
    return RunSpec(cast(ClassifierMode, mode.value), prompt=version, local_model=local_model)


def _progress(total: int) -> tuple[contextlib.AbstractContextManager[Any], Any]:
    """A rich progress bar on a terminal; nothing otherwise."""
    if not err.is_terminal:
        return contextlib.nullcontext(), None
    bar = Progress(TextColumn("classifying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=err, transient=True)  # fmt: skip
    task = bar.add_task("eval", total=total)
    return bar, lambda n: bar.advance(task, n)


def _score(
    spec: RunSpec, data: eval_data.EvalData, settings: Settings, batch_size: int, system: System | None
) -> EvalResult:
    """The spec's run over the data, one batch at a time; errors a user can act on end the command."""
    ctx, advance = _progress(len(data.examples))
    engine = system.engine if system else None
    run = run_spec(
        spec, data.examples, settings, batch_size=batch_size, concurrency=1, progress=advance, engine=engine
    )
    try:
        with ctx:
            return asyncio.run(run)
    except ModelLoadError as e:
        raise fail(str(e)) from None
    except LLMUnavailable as e:
        raise fail(f"{e}\n{LLM_HELP}", 3) from None


def _print_metrics(report: dict[str, Any]) -> None:
    version = report.get("classifier_version") or ""
    head = Table(title=f"{report['dataset']} · {report['classifier']} {version}")
    head.add_column("metric")
    head.add_column("value", justify="right")
    for key in SCORE_KEYS:
        if key in report:
            head.add_row(key, cell(report[key]))
    console.print(head)
    per = Table(title="per class")
    for col in ("kind", "precision", "recall", "f1", "support"):
        per.add_column(col, justify="right")
    for kind, m in report["per_class"].items():
        per.add_row(kind, *(cell(m[c]) for c in ("precision", "recall", "f1", "support")))
    console.print(per)
    conf = Table(title="confusion (rows: gold, columns: predicted)")
    columns = list(next(iter(report["confusion"].values())))
    conf.add_column("gold")
    for c in columns:
        conf.add_column(c, justify="right")
    for gold, row in report["confusion"].items():
        conf.add_row(gold, *(str(row[c]) for c in columns))
    console.print(conf)


def _benchmark(data: Path | None, fmt: Format) -> None:
    from core.evaluation.nlbse import run_nlbse24

    if data is None:
        raise fail(
            "--benchmark nlbse24 needs --data PATH (the folder with issues_train.csv and issues_test.csv)"
        )
    try:
        with contextlib.nullcontext() if fmt == Format.json else err.status("training per repository…"):
            result = run_nlbse24(data)
    except DatasetError as e:
        raise fail(str(e)) from None
    if fmt == Format.json:
        print(json.dumps(result))
        return
    table = Table(title=f"NLBSE'24 · local · mean macro-F1 {result['mean_macro_f1']:.4f}")
    for col in ("repo", "macro_f1", "accuracy", "train_seconds"):
        table.add_column(col, justify="right")
    for repo, m in result["repos"].items():
        table.add_row(repo, *(cell(m[c]) for c in ("macro_f1", "accuracy", "train_seconds")))
    console.print(table)


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
    conversations: Annotated[Path | None, typer.Option(help="Chat messages (JSON Lines) to replay")] = None,
    tasks: Annotated[Path | None, typer.Option(help="Their gold tasks (JSON Lines)")] = None,
) -> None:
    """Score a classifier on labeled messages or on conversations (the tasks it opens), or run a benchmark."""
    if benchmark is not None:
        _benchmark(data, fmt)
        return
    if conversations or tasks:
        eval_conversations(conversations, tasks, classifier.value, model, fmt)
        return
    if not dataset:
        raise fail("give --dataset FILE (or `db`), --conversations FILE --tasks FILE, or --benchmark nlbse24")
    settings = get_settings()
    with database(settings, start=save or dataset == "db") as system:
        labeled = _eval_data(dataset, system)
        bound = system.settings if system else settings
        result = _score(_spec(bound, classifier, prompt, model, system), labeled, bound, batch_size, system)
        report = result.report(dataset)
        if system:
            with system.session() as db:
                report["eval_run_id"] = save_eval_run(db, result, dataset)
    if classifier != Mode.local and result.llm_answered_nothing:
        warn(f"the LLM answered nothing; local results kept (needs_review).\n{LLM_HELP}")
    if fmt == Format.json:
        print(json.dumps(report, ensure_ascii=False))
        return
    _print_metrics(report)
    if cases:
        asyncio.run(pydantic_evals_report(labeled.examples, result, name=dataset)).print(include_input=True)


def register(app: typer.Typer) -> None:
    """Add `tracker eval` to the `tracker` app."""
    app.command("eval")(eval_cmd)
