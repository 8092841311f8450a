"""Local classifier: TF-IDF character + word n-grams and linear models, CPU only.

Trained in seconds from labeled examples (the project's seed set plus human labels; see
fit.py, the only part that needs scikit-learn), saved under data_dir/models/<version>.pkl
(store.py); nothing is downloaded. Prediction uses numpy only, so a model loads fast.
Confidence is the temperature-scaled probability of the predicted kind, the temperature
fitted on out-of-fold predictions so that it is calibrated on unseen messages.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.classification.dataset import seed_examples
from core.classification.local.features import SparseRows
from core.classification.local.model import LocalModelArtifact, softmax, train
from core.classification.local.store import ModelLoadError, active_model_path, load_model, save_model
from core.classification.local.titles import extract_title
from core.classification.local.urgency import is_critical
from core.classification.noise import noise_classification
from core.classification.types import Classification, MessageInput, Outcome
from core.models import Kind, Priority


class LocalClassifier:
    """Kind, priority, extractive title and calibrated confidence from a local model."""

    name = "local"

    def __init__(self, artifact: LocalModelArtifact) -> None:
        self.artifact = artifact
        self._kinds = artifact.kinds
        prio = artifact.priority_head
        self._priorities = [Priority(p) for p in prio.classes] if prio is not None else []

    @property
    def classifier_version(self) -> str:
        return self.artifact.version

    @classmethod
    def load(cls, path: Path | str) -> LocalClassifier:
        """The model saved at path."""
        return cls(load_model(path))

    @classmethod
    def from_data_dir(cls, data_dir: Path | str) -> LocalClassifier:
        """The active model in data_dir; trains (and saves) the seed model when there is none
        or when the active one cannot be loaded (written by an incompatible version)."""
        path = active_model_path(data_dir)
        if path is not None:
            with contextlib.suppress(ModelLoadError):
                return cls.load(path)
        artifact = train(seed_examples())
        save_model(artifact, data_dir)
        return cls(artifact)

    def predict(self, messages: Sequence[MessageInput]) -> list[Classification]:
        """Classify synchronously (the fast path for evaluation and the cascade)."""
        results: list[Classification | None] = [noise_classification(m.text) for m in messages]
        todo = [i for i, r in enumerate(results) if r is None]
        if todo:
            for i, c in zip(todo, self._predict_model([messages[i] for i in todo]), strict=True):
                results[i] = c
        return [r for r in results if r is not None]

    def _predict_model(self, messages: list[MessageInput]) -> list[Classification]:
        x = self.artifact.features.transform([m.text for m in messages], [m.reply_to for m in messages])
        probs = softmax(self.artifact.kind_head.logits(x) / self.artifact.temperature)
        best = probs.argmax(axis=1)
        prio_idx = self._priority_indices(x)
        out = []
        for row, msg in enumerate(messages):
            kind = self._kinds[best[row]]
            actionable = kind != Kind.noise
            priority = self._priorities[prio_idx[row]] if actionable and prio_idx is not None else None
            if kind in (Kind.bug, Kind.task) and is_critical(msg.text):
                priority = Priority.critical
            out.append(Classification.model_construct(
                kind=kind, priority=priority or (Priority.medium if actionable else None),
                title=extract_title(msg.text) if actionable else "",
                confidence=float(probs[row, best[row]]),
            ))  # fmt: skip
        return out

    def _priority_indices(self, x: SparseRows) -> np.ndarray | None:
        head = self.artifact.priority_head
        return None if head is None else np.asarray(head.logits(x).argmax(axis=1))

    async def classify(self, messages: list[MessageInput]) -> list[Outcome]:
        """The Classifier protocol: one Outcome per message, same order."""
        started = time.perf_counter()
        results = self.predict(messages)
        per_msg = (time.perf_counter() - started) * 1000 / max(len(messages), 1)
        return [
            Outcome(result=r, classifier=self.name, classifier_version=self.classifier_version,
                    model=f"local:{self.classifier_version}", latency_ms=per_msg)
            for r in results
        ]  # fmt: skip
