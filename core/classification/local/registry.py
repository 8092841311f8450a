"""Local classifier versions, as stored by training."""

from __future__ import annotations

from sqlmodel import Session, col, select

from core.models import LocalModel


def list_local_models(session: Session) -> list[LocalModel]:
    """Every trained local model, newest first."""
    return list(session.exec(select(LocalModel).order_by(col(LocalModel.created_at).desc())).all())
