"""Rows for the screens' data tables: tasks, messages, local models, evaluation runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from core.models import LocalModel
from core.schemas import ExportPublic, MessagePublic, TaskPublic

EVAL_METRICS = ("n", "accuracy", "macro_f1", "accuracy_at_conf_0_9", "coverage_at_conf_0_9", "llm_calls")


def task_rows(
    items: Sequence[TaskPublic], exports: Mapping[int, Sequence[ExportPublic]] | None = None
) -> list[dict[str, Any]]:
    """One row a task; with `exports`, where each stands in the team's trackers."""
    return [
        {
            "id": t.id, "title": t.title, "kind": t.kind, "priority": t.priority, "status": t.status,
            "assignee": t.assignee, "chat": t.chat_id, "confidence": t.confidence,
            **({"exports": export_summary(exports.get(t.id, []))} if exports is not None else {}),
            "created": t.created_at, "updated": t.updated_at,
        }
        for t in items
    ]  # fmt: skip


def export_summary(exports: Sequence[ExportPublic]) -> str:
    """'team-redmine exported #42 · hook failed': a task's exports in one cell."""
    return " · ".join(
        f"{e.target} {e.status}" + (f" #{e.external_id}" if e.external_id else "") for e in exports
    )


def message_rows(items: Sequence[MessagePublic]) -> list[dict[str, Any]]:
    return [
        {
            "id": m.id, "sent": m.sent_at or m.created_at, "channel": m.source,
            "chat": m.chat_title or m.chat_id, "deleted": m.deleted_at is not None,
            "author": m.author, "text": m.text[:200], "status": m.status,
            "kind": m.issue.kind if m.issue else None, "priority": m.issue.priority if m.issue else None,
            "confidence": m.issue.confidence if m.issue else None,
            "classifier": m.issue.classifier if m.issue else None, "reply to": m.reply_to_id,
        }
        for m in items
    ]  # fmt: skip


def model_rows(models: Sequence[LocalModel]) -> list[dict[str, Any]]:
    """Local model versions with their cross-validated scores and where their examples came from."""
    return [
        {
            "version": m.version, "active": m.active, "examples": m.n_examples, "trained": m.created_at,
            "macro_f1": m.metrics.get("cv_macro_f1", m.metrics.get("macro_f1")),
            "accuracy": m.metrics.get("cv_accuracy", m.metrics.get("accuracy")),
            "sources": ", ".join(f"{n} {k}" for k, n in (m.metrics.get("sources") or {}).items()),
        }
        for m in models
    ]  # fmt: skip


def eval_table(runs: Sequence[dict[str, Any]]) -> pl.DataFrame:
    """One row per evaluation run: what was scored, on what, and the headline metrics."""
    return pl.DataFrame([_eval_row(r) for r in runs])


def _eval_row(run: dict[str, Any]) -> dict[str, Any]:
    scored = {k: run[k] for k in ("dataset", "classifier", "prompt_version", "model")}
    return {"run": run["id"], "when": run["created_at"], **scored} | {
        k: run["metrics"].get(k) for k in EVAL_METRICS
    }
