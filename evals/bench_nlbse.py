"""NLBSE'24 benchmark (official protocol) with the local classifier; prints the figures.

    uv run python -m evals.bench_nlbse [--data ../shared/benchmarks/nlbse24] [--select-c]

--select-c also runs the variant that picks C per repository by 5-fold cross-validation
on that repository's train split only (never looking at its test split).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold

from core.classification.dataset import Example
from core.classification.local.model import TrainConfig, train
from core.evaluation.metrics import macro_f1
from core.evaluation.nlbse import (
    NLBSE_CONFIG,
    TEST_FILE,
    TRAIN_FILE,
    read_split,
    run_nlbse24,
    run_repo,
)

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "nlbse24"
GRID = (0.1, 0.3, 1.0)


def cv_score(cfg: TrainConfig, rows: list[Example], folds: int = 5) -> float:
    """Mean macro-F1 of cfg over stratified folds of rows."""
    y = np.array([e.kind.value for e in rows])
    scores = []
    for tr, va in StratifiedKFold(folds, shuffle=True, random_state=0).split(np.zeros(len(y)), y):
        art = train([rows[i] for i in tr], cfg, calibrate=False)
        x = art.features.transform([rows[i].text for i in va], [None] * len(va))
        pred = [art.kind_head.classes[j] for j in art.kind_head.logits(x).argmax(axis=1)]
        scores.append(macro_f1(list(y[va]), pred))
    return float(np.mean(scores))


def selected_c(data: Path) -> dict[str, object]:
    """Per repository: C chosen by CV on the train split, then scored on the test split."""
    train_split, test_split = read_split(data / TRAIN_FILE), read_split(data / TEST_FILE)
    repos: dict[str, dict[str, object]] = {}
    for repo in sorted(train_split):
        started = time.perf_counter()
        cv = {c: cv_score(replace(NLBSE_CONFIG, kind_c=c), train_split[repo]) for c in GRID}
        best = max(cv, key=lambda c: cv[c])
        result = run_repo(train_split[repo], test_split[repo], replace(NLBSE_CONFIG, kind_c=best))
        repos[repo] = {**result, "c": best, "select_seconds": round(time.perf_counter() - started, 2)}
    mean = float(np.mean([float(r["macro_f1"]) for r in repos.values()]))  # type: ignore[arg-type]
    return {"mean_macro_f1": round(mean, 4), "repos": repos}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--select-c", action="store_true")
    args = parser.parse_args()
    result = run_nlbse24(args.data)
    print(f"NLBSE'24 local (fixed C={NLBSE_CONFIG.kind_c}): mean macro-F1 {result['mean_macro_f1']:.4f}")
    for repo, m in result["repos"].items():
        print(f"  {repo:24s} macro-F1 {m['macro_f1']:.4f}  train {m['train_seconds']:.2f}s")
    if args.select_c:
        chosen = selected_c(args.data)
        print(f"NLBSE'24 local (C by train-split CV): mean macro-F1 {chosen['mean_macro_f1']:.4f}")
        print(json.dumps(chosen["repos"], indent=1))


if __name__ == "__main__":
    main()
