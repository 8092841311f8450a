"""Stored evaluation runs: saved by `tracker eval --save`, the notebooks and prompt reviews,
listed on the dashboard and compared in the notebooks."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from core.evaluation.metrics import Prediction
from core.evaluation.runner import EvalResult
from core.models import EvalRun


def save_eval_run(session: Session, result: EvalResult, dataset: str) -> int | None:
    """Store the run as an EvalRun row (metrics and predictions); returns its id."""
    row = EvalRun(
        dataset=dataset[:512], classifier=result.classifier,
        classifier_version=result.classifier_version, prompt_version=result.prompt_version,
        model=result.model, metrics=result.metrics,
        predictions=[asdict(p) for p in result.predictions],
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row.id


def load_eval_run(session: Session, run_id: int) -> EvalResult:
    """A stored run as an EvalResult (KeyError when there is none with that id)."""
    row = session.get(EvalRun, run_id)
    if row is None:
        raise KeyError(run_id)
    return EvalResult(
        metrics=dict(row.metrics), predictions=[Prediction(**p) for p in row.predictions],
        classifier=row.classifier, classifier_version=row.classifier_version, model=row.model,
        prompt_version=row.prompt_version,
    )  # fmt: skip


def list_eval_runs(session: Session, limit: int = 100) -> list[dict[str, Any]]:
    """The newest evaluation runs with their metrics (without the per-message predictions)."""
    rows = session.exec(
        select(EvalRun)
        .options(defer(EvalRun.predictions))  # type: ignore[arg-type]
        .order_by(col(EvalRun.created_at).desc())
        .limit(limit)
    ).all()
    return [row.model_dump(exclude={"predictions"}) for row in rows]


def saved_runs(session: Session, dataset: str, limit: int = 50) -> dict[str, int]:
    """The stored runs on a data set, newest first, as `#id label (date)` -> id."""
    columns = [col(c) for c in (EvalRun.id, EvalRun.classifier, EvalRun.prompt_version, EvalRun.model)]
    query = (
        sa_select(*columns, col(EvalRun.created_at))
        .where(col(EvalRun.dataset) == dataset)
        .order_by(col(EvalRun.created_at).desc(), col(EvalRun.id).desc())
        .limit(limit)
    )
    rows = [row._asdict() for row in session.execute(query)]
    return {f"#{r['id']} {_label(r)} ({r['created_at']:%Y-%m-%d %H:%M})": int(r["id"]) for r in rows}


def _label(run: dict[str, Any]) -> str:
    """classifier · prompt version · model of a stored run."""
    return " · ".join(str(v) for v in (run["classifier"], run["prompt_version"], run["model"]) if v)
