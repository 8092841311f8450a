"""Evaluation frames and charts: calibration bins, confusion, two runs compared, errors to read."""

from __future__ import annotations

import polars as pl
import pytest

from core.classification.dataset import Example
from core.evaluation import charts as eval_charts
from core.evaluation.frames import (
    beside_labels,
    calibration_error,
    calibration_frame,
    confusion_frame,
    disagreements,
    errors,
    per_class_side_by_side,
    predictions_frame,
    summary_frame,
)
from core.evaluation.metrics import Prediction, compute_metrics
from core.evaluation.runner import EvalResult
from core.models import Kind

EXAMPLES = [
    Example("checkout fails", Kind.bug, id="1"),
    Example("same here", Kind.noise, reply_to="checkout fails", id="2"),
    Example("add dark mode", Kind.feature, id="3"),
    Example("how do I pay?", Kind.question, id="4"),
]


def result(kinds: list[str | None], confidences: list[float | None], name: str = "a") -> EvalResult:
    preds = [
        Prediction(e.id or "", e.kind.value, None, kind, None, conf, None, error=None if kind else "failed")
        for e, kind, conf in zip(EXAMPLES, kinds, confidences, strict=True)
    ]
    return EvalResult(compute_metrics(preds, 1.0) | {"llm_calls": 2, "tokens": 40}, preds, name)


A = result(["bug", "bug", "feature", "question"], [0.95, 0.55, 0.91, 0.15])
B = result(["bug", "noise", "task", None], [0.99, 0.8, 0.6, None], "b")


def test_predictions_stand_beside_their_messages_and_context() -> None:
    frame = predictions_frame(EXAMPLES, A)
    row = frame.filter(pl.col("id") == "2").row(0, named=True)
    assert row["text"] == "same here" and row["reply_to"] == "checkout fails"
    assert row["gold_kind"] == "noise" and row["kind"] == "bug" and row["correct"] is False


def test_calibration_bins_hold_the_mean_confidence_and_the_share_right() -> None:
    frame = calibration_frame(A, bins=10)
    assert frame["bin"].to_list() == [1, 5, 9]
    top = frame.filter(pl.col("bin") == 9).row(0, named=True)
    assert top["n"] == 2 and top["accuracy"] == 1.0 and top["confidence"] == pytest.approx(0.93)
    assert top["lower"] == 0.9 and top["upper"] == 1.0
    assert calibration_frame(B)["n"].sum() == 3  # a failed prediction has no confidence
    # |0.93-1|*2 + |0.55-0|*1 + |0.15-1|*1 over 4
    assert calibration_error(frame) == pytest.approx((0.07 * 2 + 0.55 + 0.85) / 4, abs=1e-4)
    assert calibration_error(calibration_frame(result([None] * 4, [None] * 4))) is None
    assert calibration_frame(result(["bug"] * 4, [1.0] * 4))["bin"].to_list() == [9]


def test_the_confusion_frame_has_every_cell_and_row_shares() -> None:
    frame = confusion_frame(B)
    assert frame.height == 5 * 6
    shares = frame.group_by("gold").agg(pl.col("share").sum(), pl.col("count").sum())
    assert all(s == pytest.approx(1.0) for s, c in zip(shares["share"], shares["count"], strict=True) if c)
    cell = frame.filter((pl.col("gold") == "question") & (pl.col("predicted") == "error"))
    assert cell["count"].item() == 1


def test_disagreements_list_only_differing_messages_and_who_was_right() -> None:
    frame = disagreements(EXAMPLES, A, B)
    assert frame["id"].to_list() == ["2", "3", "4"]
    assert frame["right"].to_list() == ["b", "a", "a"]
    assert frame.filter(pl.col("id") == "4")["kind_b"].item() is None


def test_errors_filter_by_true_and_predicted_kind() -> None:
    frame = predictions_frame(EXAMPLES, B)
    assert errors(frame)["id"].to_list() == ["3", "4"]
    assert errors(frame, gold="feature")["id"].to_list() == ["3"]
    assert errors(frame, predicted="error")["id"].to_list() == ["4"]
    assert errors(frame, gold="bug").is_empty()


def test_summary_and_side_by_side_tables() -> None:
    summary = summary_frame({"a": A, "b": B})
    assert summary["run"].to_list() == ["a", "b"] and summary["n"].to_list() == [4, 4]
    assert summary["llm_calls"].to_list() == [2, 2] and summary.schema["n"] == pl.Int64
    assert summary["macro_f1"][0] == A.metrics["macro_f1"]
    f1 = per_class_side_by_side({"a": A, "b": B})
    assert f1.columns == ["kind", "a", "b"] and f1.height == 5


def test_outputs_beside_human_labels() -> None:
    frame = beside_labels(EXAMPLES, {"llm": A, "local": B})
    assert frame["human_kind"].to_list() == ["bug", "noise", "feature", "question"]
    assert frame["llm: kind"].to_list() == ["bug", "bug", "feature", "question"]
    assert frame["local: confidence"].to_list()[3] is None


def test_charts_encode_the_frames() -> None:
    heat = eval_charts.confusion_heatmap(confusion_frame(A), "A").to_dict()
    assert heat["layer"][0]["mark"]["type"] == "rect"
    assert heat["layer"][0]["encoding"]["color"]["field"] == "share"
    calib = eval_charts.calibration_chart(calibration_frame(A)).to_dict()
    assert {layer["mark"]["type"] for layer in calib["layer"]} == {"line"}
    assert calib["layer"][1]["encoding"]["y"]["field"] == "accuracy"
    bars = eval_charts.f1_by_class(per_class_side_by_side({"a": A, "b": B})).to_dict()
    assert bars["encoding"]["xOffset"]["field"] == "run"
