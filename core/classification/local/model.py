"""A trained local model: its linear heads and the artifact pickled as one file (numpy only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from core.classification.dataset import Example
from core.classification.local.features import CompiledFeatures, FeatureConfig, sparse_dot
from core.models import Kind


@dataclass(frozen=True)
class TrainConfig:
    """Regularisation of the two linear models and the calibration folds."""

    features: FeatureConfig = field(default_factory=FeatureConfig)
    model: str = "svm"
    """svm (LinearSVC scores, calibrated by the temperature like logits) | logreg"""
    nb_weighting: bool = False
    """NBSVM-style: one-vs-rest models on features scaled by per-class log-count ratios"""
    kind_c: float = 0.5
    kind_class_weight: str | None = "balanced"
    """balanced: each kind weighs the same in the kind model, however many examples it has
    (the seed holds far more small talk than feature requests); None: by example count"""
    priority_c: float = 0.5
    calibration_folds: int = 4
    seed: int = 13


@dataclass
class LinearHead:
    """A fitted linear classifier: logits = X @ coef + intercept."""

    classes: list[str]
    coef: np.ndarray
    """(n_features, n_classes) float32"""
    intercept: np.ndarray

    def logits(self, x: Any) -> np.ndarray:
        """Scores of CSR-shaped rows (SparseRows or a scipy csr_matrix)."""
        return sparse_dot(x, self.coef) + self.intercept


@dataclass
class LocalModelArtifact:
    """Everything a trained local model needs at prediction time, pickled as one file.

    Only numpy objects: loading a model imports neither scikit-learn nor scipy.
    """

    version: str
    data_hash: str
    created_at: str
    n_examples: int
    config: TrainConfig
    features: CompiledFeatures
    kind_head: LinearHead
    priority_head: LinearHead | None
    temperature: float
    metrics: dict[str, Any]

    @property
    def kinds(self) -> list[Kind]:
        return [Kind(k) for k in self.kind_head.classes]


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def make_version(digest: str, when: datetime | None = None) -> str:
    """Model version: date + short hash of the training data."""
    return f"{(when or datetime.now(UTC)).strftime('%Y%m%d')}-{digest[:8]}"


def train(
    examples: Sequence[Example], cfg: TrainConfig | None = None, *, calibrate: bool = True
) -> LocalModelArtifact:
    """Fit a model on examples with scikit-learn (imported only when called)."""
    # Imported on call: processes that only predict (worker, API) never load scikit-learn.
    from core.classification.local.fit import fit_model

    return fit_model(examples, cfg, calibrate=calibrate)
