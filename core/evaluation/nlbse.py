"""NLBSE'24 issue report classification, official protocol, with the local classifier.

Per repository: train on its 300 training issues, test on its 300 test issues; the score
is the mean of the five per-repository macro-F1 values (bug / feature / question).
The data is read from where it lies (never copied into the repository).
"""

from __future__ import annotations

import csv
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from core.classification.dataset import DatasetError, Example
from core.classification.local.features import FeatureConfig
from core.classification.local.model import TrainConfig, train
from core.evaluation.metrics import macro_f1
from core.models import Kind

TRAIN_FILE, TEST_FILE = "issues_train.csv", "issues_test.csv"
LABELS = {"bug": Kind.bug, "feature": Kind.feature, "question": Kind.question}
BODY_CHARS = 1000
NLBSE_CONFIG = TrainConfig(
    features=FeatureConfig(char_max_features=None, min_df=2, max_chars=BODY_CHARS + 200),
    model="svm",
    nb_weighting=True,
    kind_c=0.3,
)
"""NBSVM over char 2-5 + word 1-2 TF-IDF; C=0.3 is what 5-fold CV on the train splits picks."""
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_CODE = re.compile(r"```.*?```", re.S)


def issue_text(title: str, body: str, body_chars: int = BODY_CHARS) -> str:
    """Title, then the body without HTML comments and code blocks, truncated."""
    body = _CODE.sub(" codeblock ", _COMMENT.sub(" ", body or ""))
    return f"{title} . {body[:body_chars]}"


def read_split(path: Path) -> dict[str, list[Example]]:
    """One CSV split (repo, created_at, label, title, body) grouped by repository."""
    if not path.is_file():
        raise DatasetError(f"{path}: no such file (expected the NLBSE'24 {path.name})")
    csv.field_size_limit(sys.maxsize)
    repos: dict[str, list[Example]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for line_no, row in enumerate(csv.DictReader(f), start=2):
            label = (row.get("label") or "").strip().lower()
            if label not in LABELS or not row.get("repo"):
                raise DatasetError(f"{path}:{line_no}: unknown label {label!r} or missing repo")
            text = issue_text(row.get("title") or "", row.get("body") or "")
            repos.setdefault(row["repo"], []).append(Example(text=text, kind=LABELS[label]))
    return repos


def run_repo(train_rows: list[Example], test_rows: list[Example], cfg: TrainConfig) -> dict[str, Any]:
    """Train on one repository's train split, score on its test split."""
    started = time.perf_counter()
    art = train(train_rows, cfg, calibrate=False)
    train_s = time.perf_counter() - started
    x = art.features.transform([e.text for e in test_rows], [None] * len(test_rows))
    pred = [art.kind_head.classes[i] for i in art.kind_head.logits(x).argmax(axis=1)]
    gold = [e.kind.value for e in test_rows]
    return {
        "macro_f1": round(macro_f1(gold, pred), 4),
        "accuracy": round(float(np.mean([g == p for g, p in zip(gold, pred, strict=True)])), 4),
        "n_train": len(train_rows), "n_test": len(test_rows), "train_seconds": round(train_s, 2),
    }  # fmt: skip


def run_nlbse24(
    data: Path | str,
    cfg: TrainConfig | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The official protocol over all repositories; mean and per-repository macro-F1."""
    root = Path(data)
    cfg = cfg or NLBSE_CONFIG
    train_split, test_split = read_split(root / TRAIN_FILE), read_split(root / TEST_FILE)
    started = time.perf_counter()
    per_repo: dict[str, dict[str, Any]] = {}
    for repo in sorted(train_split):
        per_repo[repo] = run_repo(train_split[repo], test_split.get(repo, []), cfg)
        if progress:
            progress(repo)
    scores = [r["macro_f1"] for r in per_repo.values()]
    return {
        "benchmark": "nlbse24", "classifier": "local", "protocol": "per-repository train/test",
        "mean_macro_f1": round(float(np.mean(scores)), 4), "repos": per_repo,
        "max_train_seconds": max(r["train_seconds"] for r in per_repo.values()),
        "seconds": round(time.perf_counter() - started, 2), "config": _describe(cfg),
    }  # fmt: skip


def _describe(cfg: TrainConfig) -> dict[str, Any]:
    f = cfg.features
    return {"model": cfg.model, "nb_weighting": cfg.nb_weighting, "char_ngrams": list(f.char_ngrams),
            "word_ngrams": list(f.word_ngrams), "min_df": f.min_df, "kind_c": cfg.kind_c,
            "body_chars": BODY_CHARS}  # fmt: skip
