"""Training the local classifier with scikit-learn; the result is compiled to numpy (model.py).

Kind: multinomial logistic regression over TF-IDF char_wb n-grams + word n-grams of the
text and word unigrams of the replied-to text. Priority: a second logistic regression on
the actionable examples. Confidence: a temperature fitted on out-of-fold kind logits.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeAlias

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from core.classification.dataset import Example, data_hash
from core.classification.local.features import CompiledFeatures, FeatureConfig, normalize_batch
from core.classification.local.model import (
    LinearHead,
    LocalModelArtifact,
    TrainConfig,
    make_version,
    softmax,
)
from core.classification.local.ngrams import NgramSpace
from core.models import Kind

WORD_TOKENS = r"[\w']+|[?!+]"


class TextFeatures:
    """The scikit-learn vectorizers behind CompiledFeatures (fitting only)."""

    def __init__(self, cfg: FeatureConfig) -> None:
        self.cfg = cfg
        common: dict[str, Any] = {"sublinear_tf": True, "dtype": np.float32, "lowercase": False}
        self.char = TfidfVectorizer(
            analyzer="char_wb", ngram_range=cfg.char_ngrams, min_df=cfg.min_df,
            max_features=cfg.char_max_features, **common,
        )  # fmt: skip
        self.word = TfidfVectorizer(
            analyzer="word", ngram_range=cfg.word_ngrams, min_df=cfg.min_df,
            token_pattern=WORD_TOKENS, **common,
        )  # fmt: skip
        self.context = TfidfVectorizer(analyzer="word", token_pattern=WORD_TOKENS, **common)

    def fit_transform(self, texts: Sequence[str], contexts: Sequence[str | None]) -> csr_matrix:
        t, c = normalize_batch(texts, contexts, self.cfg.max_chars, self.cfg.markers)
        return self._stack(
            [self.char.fit_transform(t), self.word.fit_transform(t), self.context.fit_transform(c)]
        )

    def transform(self, texts: Sequence[str], contexts: Sequence[str | None]) -> csr_matrix:
        t, c = normalize_batch(texts, contexts, self.cfg.max_chars, self.cfg.markers)
        return self._stack([self.char.transform(t), self.word.transform(t), self.context.transform(c)])

    def _stack(self, parts: list[Any]) -> csr_matrix:
        parts[2] = parts[2] * self.cfg.context_weight
        return csr_matrix(hstack(parts, format="csr"))

    def compile(self) -> CompiledFeatures:
        """The fitted vocabularies as numpy-only objects."""
        return CompiledFeatures(
            char=_space(self.char, "char_wb", None), word=_space(self.word, "word", WORD_TOKENS),
            context=_space(self.context, "word", WORD_TOKENS), max_chars=self.cfg.max_chars,
            context_weight=self.cfg.context_weight, markers=self.cfg.markers,
        )  # fmt: skip


def _space(vec: TfidfVectorizer, analyzer: str, pattern: str | None) -> NgramSpace:
    vocab = {str(k): int(v) for k, v in vec.vocabulary_.items()}
    return NgramSpace(analyzer, tuple(vec.ngram_range), vocab, vec.idf_.astype(np.float32), pattern)


Linear: TypeAlias = LogisticRegression | LinearSVC


def linear(kind: str, c: float, class_weight: str | None = None) -> Linear:
    """An unfitted linear model of the configured kind."""
    if kind == "svm":
        return LinearSVC(C=c, class_weight=class_weight)
    return LogisticRegression(C=c, max_iter=3000, class_weight=class_weight)


def head(model: Linear) -> LinearHead:
    """A fitted logistic regression as logits = X @ coef + intercept (binary case as 2 columns)."""
    coef, intercept = model.coef_, model.intercept_
    if coef.shape[0] == 1:
        coef = np.vstack([-coef[0], coef[0]]) / 2
        intercept = np.array([-intercept[0], intercept[0]]) / 2
    return LinearHead([str(c) for c in model.classes_], np.ascontiguousarray(coef.T, dtype=np.float32),
                      intercept.astype(np.float32))  # fmt: skip


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood (grid search)."""
    best, best_nll = 1.0, math.inf
    for t in np.exp(np.linspace(math.log(0.01), math.log(20.0), 120)):
        p = softmax(logits / t)[np.arange(len(y)), y]
        nll = float(-np.log(np.clip(p, 1e-12, 1.0)).mean())
        if nll < best_nll:
            best, best_nll = float(t), nll
    return best


def nb_head(kind: str, c: float, x: csr_matrix, y: np.ndarray, alpha: float = 1.0) -> LinearHead:
    """One-vs-rest models on log-count-ratio scaled features (Wang & Manning's NBSVM), folded
    into one linear head: logit_k = (x * r_k) . w_k + b_k = x . (r_k * w_k) + b_k."""
    classes = sorted(set(y.tolist()))
    present = csr_matrix((x > 0).astype(np.float32))
    coefs, intercepts = [], []
    for k in classes:
        p = alpha + np.asarray(present[y == k].sum(axis=0)).ravel()
        q = alpha + np.asarray(present[y != k].sum(axis=0)).ravel()
        r = np.log((p / p.sum()) / (q / q.sum())).astype(np.float32)
        model = linear(kind, c).fit(csr_matrix(x.multiply(r)), y == k)
        coefs.append(r * model.coef_[0])
        intercepts.append(model.intercept_[0])
    return LinearHead(classes, np.ascontiguousarray(np.column_stack(coefs), dtype=np.float32),
                      np.asarray(intercepts, dtype=np.float32))  # fmt: skip


def fit_kind(cfg: TrainConfig, rows: Sequence[Example]) -> tuple[TextFeatures, LinearHead]:
    """Vectorizers and kind model fitted on rows."""
    feats = TextFeatures(cfg.features)
    x = feats.fit_transform([e.text for e in rows], [e.reply_to for e in rows])
    y = np.array([e.kind.value for e in rows])
    if cfg.nb_weighting:
        return feats, nb_head(cfg.model, cfg.kind_c, x, y)
    return feats, head(linear(cfg.model, cfg.kind_c, cfg.kind_class_weight).fit(x, y))


def out_of_fold(cfg: TrainConfig, rows: list[Example]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Out-of-fold kind logits, true class indices and class names."""
    y = np.array([e.kind.value for e in rows])
    classes = sorted(set(y))
    folds = min(cfg.calibration_folds, int(min(np.unique(y, return_counts=True)[1])))
    logits = np.zeros((len(rows), len(classes)))
    splitter = StratifiedKFold(n_splits=max(folds, 2), shuffle=True, random_state=cfg.seed)
    for tr, va in splitter.split(np.zeros(len(y)), y):
        feats, kind_head = fit_kind(cfg, [rows[i] for i in tr])
        x = feats.transform([rows[i].text for i in va], [rows[i].reply_to for i in va])
        cols = [classes.index(c) for c in kind_head.classes]
        logits[np.ix_(va, cols)] = kind_head.logits(x)
    return logits, np.array([classes.index(k) for k in y]), classes


def calibrate_kind(cfg: TrainConfig, rows: list[Example]) -> tuple[float, dict[str, Any]]:
    """Temperature and cross-validated metrics of the kind model."""
    if len(rows) < 20 or min(sum(e.kind == k for e in rows) for k in {e.kind for e in rows}) < 2:
        return 1.0, {}
    logits, y, classes = out_of_fold(cfg, rows)
    temp = fit_temperature(logits, y)
    probs = softmax(logits / temp)
    pred, conf = probs.argmax(1), probs.max(1)
    high = conf >= 0.9
    return temp, {
        "cv_accuracy": round(float(accuracy_score(y, pred)), 4),
        "cv_macro_f1": round(float(f1_score(y, pred, average="macro")), 4),
        "cv_accuracy_at_conf_0_9": round(float((pred[high] == y[high]).mean()), 4) if high.any() else None,
        "cv_coverage_at_conf_0_9": round(float(high.mean()), 4),
        "temperature": round(temp, 4),
        "classes": [str(c) for c in classes],
    }


def fit_priority(cfg: TrainConfig, feats: TextFeatures, rows: Sequence[Example]) -> LinearHead | None:
    """The priority model over the actionable examples (None with fewer than 2 priorities)."""
    labeled = [e for e in rows if e.kind != Kind.noise and e.priority is not None]
    if len({e.priority for e in labeled}) < 2:
        return None
    model = linear(cfg.model, cfg.priority_c, class_weight="balanced")  # critical/high are rare
    model.fit(feats.transform([e.text for e in labeled], [e.reply_to for e in labeled]),
              [e.priority.value for e in labeled if e.priority])  # fmt: skip
    return head(model)


def fit_model(
    examples: Sequence[Example], cfg: TrainConfig | None = None, *, calibrate: bool = True
) -> LocalModelArtifact:
    """Fit the kind and priority models (and the confidence temperature) on examples."""
    cfg = cfg or TrainConfig()
    rows = [e for e in examples if e.text.strip()]
    if len({e.kind for e in rows}) < 2:
        raise ValueError("training needs examples of at least two kinds")
    started = time.perf_counter()
    temp, metrics = calibrate_kind(cfg, rows) if calibrate else (1.0, {})
    feats, kind_head = fit_kind(cfg, rows)
    digest = data_hash(rows)
    metrics |= {"n_examples": len(rows), "train_seconds": round(time.perf_counter() - started, 3)}
    return LocalModelArtifact(
        version=make_version(digest), data_hash=digest, created_at=datetime.now(UTC).isoformat(),
        n_examples=len(rows), config=cfg, features=feats.compile(), kind_head=kind_head,
        priority_head=fit_priority(cfg, feats, rows), temperature=temp, metrics=metrics,
    )  # fmt: skip
