"""Evaluation results as polars frames: predictions beside the messages, per-class figures,
confusion, calibration, a comparison of two runs and the errors to read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from core.classification.dataset import Example
from core.classification.types import MessageInput, Outcome
from core.evaluation.metrics import KIND_LABELS
from core.evaluation.runner import EvalResult

SUMMARY_KEYS = (
    "n", "macro_f1", "accuracy", "priority_accuracy", "accuracy_at_conf_0_9", "coverage_at_conf_0_9",
    "errors", "needs_review", "llm_calls", "tokens", "seconds",
)  # fmt: skip
COUNT_KEYS = ("n", "errors", "needs_review", "llm_calls", "tokens")
PREDICTION_SCHEMA = {
    "id": pl.Utf8, "text": pl.Utf8, "reply_to": pl.Utf8, "gold_kind": pl.Utf8, "kind": pl.Utf8,
    "confidence": pl.Float64, "correct": pl.Boolean, "gold_priority": pl.Utf8, "priority": pl.Utf8,
    "title": pl.Utf8, "needs_review": pl.Boolean, "error": pl.Utf8,
}  # fmt: skip


def predictions_frame(examples: Sequence[Example], result: EvalResult) -> pl.DataFrame:
    """One row per prediction with its message's text and reply-to context."""
    by_id = {e.id: e for e in examples}
    rows = []
    for p in result.predictions:
        example = by_id.get(p.id)
        rows.append({
            "id": p.id, "text": example.text if example else None,
            "reply_to": example.reply_to if example else None, "gold_kind": p.gold_kind, "kind": p.kind,
            "confidence": p.confidence, "correct": p.correct, "gold_priority": p.gold_priority,
            "priority": p.priority, "title": p.title, "needs_review": p.needs_review, "error": p.error,
        })  # fmt: skip
    return pl.DataFrame(rows, schema=PREDICTION_SCHEMA)


def summary_frame(results: Mapping[str, EvalResult]) -> pl.DataFrame:
    """One row per run: the headline figures and the cost (LLM calls, tokens, seconds)."""
    rows = [{"run": label, **{k: r.metrics.get(k) for k in SUMMARY_KEYS}} for label, r in results.items()]
    schema = {"run": pl.Utf8} | {k: pl.Int64 if k in COUNT_KEYS else pl.Float64 for k in SUMMARY_KEYS}
    return pl.DataFrame(rows, schema=schema)


def per_class_frame(result: EvalResult) -> pl.DataFrame:
    """kind, precision, recall, f1, support."""
    per = result.metrics["per_class"]
    return pl.DataFrame(
        [{"kind": k, **{m: float(per[k][m]) for m in ("precision", "recall", "f1")},
          "support": int(per[k]["support"])} for k in KIND_LABELS],
        schema={"kind": pl.Utf8, "precision": pl.Float64, "recall": pl.Float64, "f1": pl.Float64,
                "support": pl.Int64},
    )  # fmt: skip


def per_class_side_by_side(results: Mapping[str, EvalResult]) -> pl.DataFrame:
    """kind, then one F1 column per run."""
    frame = pl.DataFrame({"kind": KIND_LABELS})
    for label, result in results.items():
        f1 = per_class_frame(result).select("kind", pl.col("f1").alias(label))
        frame = frame.join(f1, on="kind", how="left", maintain_order="left")
    return frame


def confusion_frame(result: EvalResult) -> pl.DataFrame:
    """gold, predicted, count and the share of the gold kind's messages (long form, every cell)."""
    confusion = result.metrics["confusion"]
    rows = [{"gold": gold, "predicted": predicted, "count": count}
            for gold, row in confusion.items() for predicted, count in row.items()]  # fmt: skip
    frame = pl.DataFrame(rows, schema={"gold": pl.Utf8, "predicted": pl.Utf8, "count": pl.Int64})
    total = pl.col("count").sum().over("gold")
    return frame.with_columns(share=pl.when(total > 0).then(pl.col("count") / total).otherwise(0.0))


def calibration_frame(result: EvalResult, bins: int = 10) -> pl.DataFrame:
    """Per confidence bin: lower/upper bound, n, mean confidence and the share that was right."""
    rows = [(p.confidence, p.correct) for p in result.predictions if p.confidence is not None]
    frame = pl.DataFrame(rows, schema={"confidence": pl.Float64, "correct": pl.Boolean}, orient="row")
    binned = frame.with_columns(bin=(pl.col("confidence") * bins).floor().clip(0, bins - 1).cast(pl.Int64))
    stats = binned.group_by("bin").agg(
        n=pl.len(), confidence=pl.col("confidence").mean(), accuracy=pl.col("correct").mean()
    )
    return (
        stats.with_columns(lower=pl.col("bin") / bins, upper=(pl.col("bin") + 1) / bins)
        .select("bin", "lower", "upper", pl.col("n").cast(pl.Int64), "confidence", "accuracy")
        .sort("bin")
    )


def calibration_error(calibration: pl.DataFrame) -> float | None:
    """Expected calibration error: the n-weighted mean gap between confidence and accuracy."""
    total = int(calibration["n"].sum()) if calibration.height else 0
    if not total:
        return None
    gaps = (calibration["confidence"] - calibration["accuracy"]).abs() * calibration["n"]
    return round(float(gaps.sum()) / total, 4)


def disagreements(examples: Sequence[Example], a: EvalResult, b: EvalResult) -> pl.DataFrame:
    """The messages two runs labeled differently: text, context, gold and both answers, who was right."""
    keep = ["id", "text", "reply_to", "gold_kind", "kind", "confidence"]
    left = predictions_frame(examples, a).select(keep)
    right = predictions_frame(examples, b).select("id", "kind", "confidence")
    joined = left.join(right, on="id", suffix="_b", maintain_order="left").rename(
        {"kind": "kind_a", "confidence": "confidence_a"}
    )
    right_a, right_b = pl.col("kind_a") == pl.col("gold_kind"), pl.col("kind_b") == pl.col("gold_kind")
    return joined.filter(pl.col("kind_a").ne_missing(pl.col("kind_b"))).with_columns(
        right=pl.when(right_a).then(pl.lit("a")).when(right_b).then(pl.lit("b")).otherwise(pl.lit("neither"))
    )


def errors(frame: pl.DataFrame, gold: str | None = None, predicted: str | None = None) -> pl.DataFrame:
    """The wrong predictions of a predictions frame, optionally of one true and/or predicted kind."""
    wrong = frame.filter(~pl.col("correct"))
    if gold:
        wrong = wrong.filter(pl.col("gold_kind") == gold)
    if predicted:
        wrong = wrong.filter(pl.col("kind").fill_null("error") == predicted)
    return wrong.sort("confidence", descending=True, nulls_last=True)


def beside_labels(examples: Sequence[Example], results: Mapping[str, EvalResult]) -> pl.DataFrame:
    """Each message with its human label and, per run, the kind, priority, confidence and title it got."""
    frame = pl.DataFrame(
        [{"id": e.id, "text": e.text, "reply_to": e.reply_to, "human_kind": e.kind.value,
          "human_priority": e.priority.value if e.priority else None} for e in examples],
        schema={"id": pl.Utf8, "text": pl.Utf8, "reply_to": pl.Utf8, "human_kind": pl.Utf8,
                "human_priority": pl.Utf8},
    )  # fmt: skip
    for label, result in results.items():
        answers = predictions_frame(examples, result).select(
            "id", *(pl.col(c).alias(f"{label}: {c}") for c in ("kind", "priority", "confidence", "title"))
        )
        frame = frame.join(answers, on="id", how="left", maintain_order="left")
    return frame


def classified_frame(messages: Sequence[MessageInput], outcomes: Sequence[Outcome]) -> pl.DataFrame:
    """Messages without labels and what a classifier said about each."""
    rows = [{"id": m.id, "text": m.text, "reply_to": m.reply_to, "kind": o.result and o.result.kind.value,
             "priority": o.result and o.result.priority and o.result.priority.value,
             "confidence": o.result and o.result.confidence, "title": o.result and o.result.title,
             "error": o.error} for m, o in zip(messages, outcomes, strict=True)]  # fmt: skip
    schema = {"id": pl.Utf8, "text": pl.Utf8, "reply_to": pl.Utf8, "kind": pl.Utf8, "priority": pl.Utf8,
              "confidence": pl.Float64, "title": pl.Utf8, "error": pl.Utf8}  # fmt: skip
    return pl.DataFrame(rows, schema=schema)
