"""Altair charts of the analytics frames (core.triage.analytics), one function per figure."""

from __future__ import annotations

import altair as alt
import polars as pl


def messages_per_day(frame: pl.DataFrame) -> alt.Chart:
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(x="day:T", y="messages:Q", color="chat:N", tooltip=["day:T", "chat:N", "messages:Q"])
    )


def by_channel(frame: pl.DataFrame) -> alt.Chart:
    """Each channel's messages, split into reports, noise and the rest (unclassified)."""
    split = frame.with_columns(other=pl.col("messages") - pl.col("reports") - pl.col("noise"))
    return (
        alt.Chart(split)
        .transform_fold(["reports", "noise", "other"], as_=["what", "count"])
        .mark_bar()
        .encode(
            y="channel:N", x=alt.X("count:Q", title="messages"), color="what:N",
            tooltip=["channel:N", "messages:Q", "reports:Q", "noise:Q"],
        )
    )  # fmt: skip


def kind_mix(frame: pl.DataFrame) -> alt.Chart:
    share = alt.Tooltip("share:Q", format=".0%")
    return (
        alt.Chart(frame)
        .mark_arc()
        .encode(theta="messages:Q", color="kind:N", tooltip=["kind:N", "messages:Q", share])
    )


def noise_share(frame: pl.DataFrame) -> alt.Chart:
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x="day:T",
            y=alt.Y("noise_share:Q", axis=alt.Axis(format="%"), title="noise share"),
            tooltip=["day:T", "noise:Q", "total:Q"],
        )
    )


def triage_delay(frame: pl.DataFrame) -> alt.Chart:
    return (
        alt.Chart(frame)
        .transform_fold(["median_minutes", "p90_minutes"], as_=["statistic", "minutes"])
        .mark_line(point=True)
        .encode(x="day:T", y="minutes:Q", color="statistic:N", tooltip=["day:T", "statistic:N", "minutes:Q"])
    )


def llm_volume(frame: pl.DataFrame) -> alt.Chart:
    return (
        alt.Chart(frame)
        .transform_fold(["calls", "tokens"], as_=["measure", "count"])
        .mark_bar()
        .encode(x="day:T", y="count:Q", color="measure:N", tooltip=["day:T", "measure:N", "count:Q"])
    )


def llm_latency(frame: pl.DataFrame) -> alt.Chart:
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x="day:T", y=alt.Y("mean_latency_ms:Q", title="mean latency (ms)"), tooltip=["day:T", "calls:Q"]
        )
    )


def confidence(frame: pl.DataFrame) -> alt.Chart:
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(x=alt.X("low:Q", bin="binned", title="confidence"), x2="high:Q", y="messages:Q")
    )


def agreement(frame: pl.DataFrame) -> alt.Chart:
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x="day:T",
            y=alt.Y("agreement:Q", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
            color="classifier:N",
            tooltip=["day:T", "classifier:N", "decisions:Q", "agreed:Q"],
        )
    )


def eval_scores(frame: pl.DataFrame) -> alt.Chart:
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x="when:T", y="macro_f1:Q", color="classifier:N", tooltip=["run:Q", "dataset:N", "macro_f1:Q"]
        )
    )
