"""Training the local classifier: seed examples + human labels (+ confident LLM labels)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select, update

from core.classification.dataset import Example, seed_examples
from core.classification.local.model import LocalModelArtifact, TrainConfig, train
from core.classification.local.store import save_model
from core.models import Issue, Kind, Label, LocalModel, Message, Priority

LLM_CLASSIFIERS = ("llm", "cascade")


@dataclass
class TrainingResult:
    """The trained model, where it was saved and how many examples came from where."""

    artifact: LocalModelArtifact
    path: Path
    sources: dict[str, int] = field(default_factory=dict)
    model_id: int | None = None


def human_label_examples(session: Session) -> list[Example]:
    """The latest human label of every labeled message, with its reply-to text."""
    latest = (
        select(Label.message_id, func.max(Label.id).label("label_id"))
        .group_by(col(Label.message_id))
        .subquery()
    )
    parent = aliased(Message)
    rows = session.exec(
        select(Label, Message.text, parent.text)
        .join(latest, col(Label.id) == latest.c.label_id)
        .join(Message, col(Message.id) == col(Label.message_id))
        .outerjoin(parent, col(parent.id) == col(Message.reply_to_id))
    ).all()
    return [_example(label.kind, label.priority, text, reply, f"label:{label.id}")
            for label, text, reply in rows]  # fmt: skip


def llm_label_examples(session: Session, min_confidence: float) -> list[Example]:
    """Current LLM/cascade results at or above min_confidence on messages nobody labeled."""
    parent = aliased(Message)
    labeled = select(Label.message_id)
    rows = session.exec(
        select(Issue, Message.text, parent.text)
        .join(Message, col(Message.id) == col(Issue.message_id))
        .outerjoin(parent, col(parent.id) == col(Message.reply_to_id))
        .where(col(Issue.is_current), col(Issue.classifier).in_(LLM_CLASSIFIERS))
        .where(col(Issue.kind).is_not(None), col(Issue.confidence) >= min_confidence)
        .where(col(Issue.needs_review).is_(False), col(Issue.message_id).not_in(labeled))
    ).all()
    return [_example(issue.kind, issue.priority, text, reply, f"issue:{issue.id}")
            for issue, text, reply in rows if issue.kind is not None]  # fmt: skip


def _example(
    kind: Kind | str, priority: Priority | str | None, text: str, reply: str | None, id_: str
) -> Example:
    k = Kind(kind)
    return Example(
        text=text, kind=k, priority=None if k == Kind.noise or not priority else Priority(priority),
        reply_to=reply, id=id_,
    )  # fmt: skip


def register_model(session: Session, result: TrainingResult, activate: bool = True) -> int | None:
    """Record (or update) the LocalModel row for this version; make it the active one."""
    art = result.artifact
    if activate:
        session.exec(update(LocalModel).values(active=False))  # type: ignore[call-overload]
    row = session.exec(select(LocalModel).where(LocalModel.version == art.version)).first()
    row = row or LocalModel(version=art.version, data_hash=art.data_hash, path=str(result.path))
    row.path, row.metrics, row.n_examples = str(result.path), _jsonable(art.metrics), art.n_examples
    row.metrics["sources"] = result.sources
    row.active = activate
    session.add(row)
    session.flush()
    return row.id


def _jsonable(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metrics.items() if isinstance(v, str | int | float | list | type(None))}


def train_local_model(
    examples: Sequence[Example] | None,
    data_dir: Path | str,
    session: Session | None = None,
    *,
    llm_min_confidence: float | None = None,
    config: TrainConfig | None = None,
    activate: bool = True,
) -> TrainingResult:
    """Train on examples (default: the seed set) + DB labels, save under data_dir, register."""
    base = list(examples) if examples is not None else seed_examples()
    sources = {"examples": len(base)}
    rows = list(base)
    if session is not None:
        human = human_label_examples(session)
        rows += human
        sources["human_labels"] = len(human)
        if llm_min_confidence is not None:
            llm = llm_label_examples(session, llm_min_confidence)
            rows += llm
            sources["llm_labels"] = len(llm)
    artifact = train(rows, config)
    path = save_model(artifact, data_dir, activate=activate)
    result = TrainingResult(artifact=artifact, path=path, sources=sources)
    if session is not None:
        result.model_id = register_model(session, result, activate=activate)
    return result
