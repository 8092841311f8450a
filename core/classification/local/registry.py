"""Local classifier versions and evaluation runs, as stored by training and `tracker eval`."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from core.models import EvalRun, LocalModel


def list_local_models(session: Session) -> list[LocalModel]:
    """Every trained local model, newest first."""
    return list(session.exec(select(LocalModel).order_by(col(LocalModel.created_at).desc())).all())


def list_eval_runs(session: Session, limit: int = 100) -> list[dict[str, Any]]:
    """The newest evaluation runs with their metrics (without the per-message predictions)."""
    rows = session.exec(
        select(EvalRun)
        .options(defer(EvalRun.predictions))  # type: ignore[arg-type]
        .order_by(col(EvalRun.created_at).desc())
        .limit(limit)
    ).all()
    return [row.model_dump(exclude={"predictions"}) for row in rows]
