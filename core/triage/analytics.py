"""Figures about the flow of messages, the classifier and triage, as polars data frames.

The database aggregates (one row per day and group), polars shapes the result: the frames
stay small whatever the size of the tables.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import text
from sqlmodel import Session

from core.models import LabelAction

MESSAGE_DAY = "((coalesce(m.sent_at, m.created_at)) AT TIME ZONE 'UTC')::date"
JUDGING_ACTIONS = (LabelAction.accept, LabelAction.reject, LabelAction.correct, LabelAction.merge)
"""Label actions that say something about the kind (assigning does not)."""


def _frame(session: Session, sql: str, params: dict[str, Any], schema: dict[str, Any]) -> pl.DataFrame:
    rows = session.execute(text(sql), params).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def messages_per_day(session: Session, since: datetime) -> pl.DataFrame:
    """day, chat, messages."""
    sql = f"""
        SELECT {MESSAGE_DAY} AS day, coalesce(max(m.chat_title), m.chat_id) AS chat, count(*) AS messages
        FROM messages m WHERE coalesce(m.sent_at, m.created_at) >= :since
        GROUP BY 1, m.chat_id ORDER BY 1, 2
    """
    return _frame(session, sql, {"since": since}, {"day": pl.Date, "chat": pl.Utf8, "messages": pl.Int64})


def by_channel(session: Session, since: datetime) -> pl.DataFrame:
    """channel, messages, reports, noise: each channel's messages (source) and what the
    classifier made of them (a current kind other than noise, or noise)."""
    sql = """
        SELECT m.source AS channel, count(*) AS messages,
               count(*) FILTER (WHERE i.kind IS NOT NULL AND i.kind <> 'noise') AS reports,
               count(*) FILTER (WHERE i.kind = 'noise') AS noise
        FROM messages m LEFT JOIN issues i ON i.message_id = m.id AND i.is_current
        WHERE coalesce(m.sent_at, m.created_at) >= :since
        GROUP BY 1 ORDER BY 2 DESC, 1
    """
    schema = {"channel": pl.Utf8, "messages": pl.Int64, "reports": pl.Int64, "noise": pl.Int64}
    return _frame(session, sql, {"since": since}, schema)


def kinds_per_day(session: Session, since: datetime) -> pl.DataFrame:
    """day, kind, messages: the current classification of each message."""
    sql = f"""
        SELECT {MESSAGE_DAY} AS day, i.kind, count(*) AS messages
        FROM messages m JOIN issues i ON i.message_id = m.id AND i.is_current AND i.kind IS NOT NULL
        WHERE coalesce(m.sent_at, m.created_at) >= :since
        GROUP BY 1, 2 ORDER BY 1, 2
    """
    return _frame(session, sql, {"since": since}, {"day": pl.Date, "kind": pl.Utf8, "messages": pl.Int64})


def kind_mix(per_day: pl.DataFrame) -> pl.DataFrame:
    """kind, messages, share over the whole period."""
    totals = per_day.group_by("kind").agg(pl.col("messages").sum()).sort("messages", descending=True)
    return totals.with_columns(share=pl.col("messages") / pl.col("messages").sum())


def noise_share(per_day: pl.DataFrame) -> pl.DataFrame:
    """day, noise_share: the share of classified messages that were noise."""
    return (
        per_day.group_by("day")
        .agg(
            noise=pl.col("messages").filter(pl.col("kind") == "noise").sum(),
            total=pl.col("messages").sum(),
        )
        .with_columns(noise_share=pl.col("noise") / pl.col("total"))
        .sort("day")
    )


def triage_delay(session: Session, since: datetime) -> pl.DataFrame:
    """day, decisions, median_minutes, p90_minutes: first message of a task to its first human decision."""
    sql = """
        WITH first_decision AS (
            SELECT task_id, min(created_at) AS decided_at FROM labels
            WHERE task_id IS NOT NULL GROUP BY task_id HAVING min(created_at) >= :since),
        delays AS (
            SELECT (d.decided_at AT TIME ZONE 'UTC')::date AS day,
                   extract(epoch FROM d.decided_at - min(coalesce(m.sent_at, m.created_at))) / 60 AS minutes
            FROM first_decision d
            JOIN task_messages tm ON tm.task_id = d.task_id
            JOIN messages m ON m.id = tm.message_id
            GROUP BY d.task_id, d.decided_at)
        SELECT day, count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY minutes),
               percentile_cont(0.9) WITHIN GROUP (ORDER BY minutes)
        FROM delays GROUP BY day ORDER BY day
    """
    schema = {"day": pl.Date, "decisions": pl.Int64, "median_minutes": pl.Float64, "p90_minutes": pl.Float64}
    return _frame(session, sql, {"since": since}, schema)


def llm_usage(session: Session, since: datetime) -> pl.DataFrame:
    """day, calls, input_tokens, output_tokens, tokens, mean_latency_ms (every classification made)."""
    sql = """
        SELECT (created_at AT TIME ZONE 'UTC')::date AS day, sum(llm_calls), sum(input_tokens),
               sum(output_tokens), avg(latency_ms) FILTER (WHERE llm_calls > 0)
        FROM issues WHERE created_at >= :since GROUP BY 1 ORDER BY 1
    """
    schema = {
        "day": pl.Date,
        "calls": pl.Int64,
        "input_tokens": pl.Int64,
        "output_tokens": pl.Int64,
        "mean_latency_ms": pl.Float64,
    }
    frame = _frame(session, sql, {"since": since}, schema)
    return frame.with_columns(tokens=pl.col("input_tokens") + pl.col("output_tokens"))


def confidence_histogram(session: Session, since: datetime, bins: int = 20) -> pl.DataFrame:
    """low, high, messages: current classifications by confidence, in equal bins over [0, 1]."""
    sql = """
        SELECT least(width_bucket(confidence, 0, 1, :bins), :bins) AS bucket, count(*)
        FROM issues WHERE is_current AND confidence IS NOT NULL AND created_at >= :since
        GROUP BY 1 ORDER BY 1
    """
    counts = _frame(session, sql, {"since": since, "bins": bins}, {"bucket": pl.Int64, "messages": pl.Int64})
    edges = pl.DataFrame({"bucket": range(1, bins + 1)})
    return (
        edges.join(counts, on="bucket", how="left")
        .with_columns(
            low=(pl.col("bucket") - 1) / bins,
            high=pl.col("bucket") / bins,
            messages=pl.col("messages").fill_null(0),
        )
        .select("low", "high", "messages")
    )


def agreement(session: Session, since: datetime) -> pl.DataFrame:
    """day, classifier, decisions, agreed, agreement: how often people kept the classifier's kind."""
    sql = """
        SELECT (l.created_at AT TIME ZONE 'UTC')::date AS day, i.classifier, count(*),
               count(*) FILTER (WHERE l.kind = i.kind)
        FROM labels l JOIN issues i ON i.message_id = l.message_id AND i.is_current
        WHERE l.created_at >= :since AND l.action = ANY(:actions)
        GROUP BY 1, 2 ORDER BY 1, 2
    """
    params = {"since": since, "actions": list(JUDGING_ACTIONS)}
    schema = {"day": pl.Date, "classifier": pl.Utf8, "decisions": pl.Int64, "agreed": pl.Int64}
    frame = _frame(session, sql, params, schema)
    return frame.with_columns(agreement=pl.col("agreed") / pl.col("decisions"))
