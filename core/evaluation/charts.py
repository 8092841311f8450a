"""Altair charts of evaluation frames: confusion heatmap, calibration, per-class F1."""

from __future__ import annotations

import altair as alt
import polars as pl

from core.evaluation.metrics import KIND_LABELS

PREDICTED_ORDER = [*KIND_LABELS, "error"]


def confusion_heatmap(confusion: pl.DataFrame, title: str = "") -> alt.LayerChart:
    """Gold kind (rows) x predicted kind (columns), coloured by the share of the gold kind, with counts."""
    base = alt.Chart(confusion, title=title).encode(
        x=alt.X("predicted:N", sort=PREDICTED_ORDER, title="predicted"),
        y=alt.Y("gold:N", sort=KIND_LABELS, title="gold (human)"),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("share:Q", scale=alt.Scale(scheme="blues", domain=[0, 1]), title="share of row"),
        tooltip=["gold:N", "predicted:N", "count:Q", alt.Tooltip("share:Q", format=".0%")],
    )
    counts = base.mark_text().encode(
        text="count:Q",
        color=alt.condition(alt.datum.share > 0.5, alt.value("white"), alt.value("black")),
    )
    return (cells + counts).properties(width=320, height=240)


def calibration_chart(calibration: pl.DataFrame, title: str = "") -> alt.LayerChart:
    """Share right against mean confidence per bin; the diagonal is perfect calibration."""
    diagonal = (
        alt.Chart(pl.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0]}))
        .mark_line(strokeDash=[4, 4], color="gray")
        .encode(x="x:Q", y="y:Q")
    )
    points = (
        alt.Chart(calibration, title=title)
        .mark_line(point=True)
        .encode(
            x=alt.X("confidence:Q", scale=alt.Scale(domain=[0, 1]), title="mean confidence"),
            y=alt.Y("accuracy:Q", scale=alt.Scale(domain=[0, 1]), title="share right"),
            size=alt.Size("n:Q", title="messages"),
            tooltip=[
                "lower:Q",
                "upper:Q",
                "n:Q",
                alt.Tooltip("confidence:Q", format=".2f"),
                alt.Tooltip("accuracy:Q", format=".2f"),
            ],
        )
    )
    return (diagonal + points).properties(width=320, height=240)


def f1_by_class(side_by_side: pl.DataFrame) -> alt.Chart:
    """Grouped bars: per kind, one F1 bar per run (from eval_frames.per_class_side_by_side)."""
    long = side_by_side.unpivot(index="kind", variable_name="run", value_name="f1")
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("kind:N", sort=KIND_LABELS),
            xOffset="run:N",
            y=alt.Y("f1:Q", scale=alt.Scale(domain=[0, 1])),
            color="run:N",
            tooltip=["kind:N", "run:N", alt.Tooltip("f1:Q", format=".3f")],
        )
        .properties(width=420, height=220)
    )
