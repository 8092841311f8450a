"""Local classifier: TF-IDF character + word n-grams and linear models, CPU only.

Trained in seconds from labeled examples (the project's seed set plus human labels; see
local_train.py, the only part that needs scikit-learn), saved under
data_dir/models/<version>.pkl; nothing is downloaded. Prediction uses numpy only, so a
model loads fast. Confidence is the temperature-scaled probability of the predicted
kind, the temperature fitted on out-of-fold predictions so that it is calibrated on
unseen messages.
"""

from __future__ import annotations

import contextlib
import pickle
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from core.classification.dataset import SEED_PATH, Example, load_jsonl
from core.classification.local.urgency import is_critical
from core.classification.noise import noise_classification
from core.classification.types import Classification, MessageInput, Outcome
from core.models import Kind, Priority

MODELS_DIR = "models"
WORD_CACHE_SIZE = 200_000
ACTIVE_FILE = "ACTIVE"
_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"(?<!\w)@\w+")
_LONG_NUM = re.compile(r"\d{5,}")


@dataclass(frozen=True)
class FeatureConfig:
    """Which n-grams to extract and how much text to read."""

    char_ngrams: tuple[int, int] = (2, 5)
    word_ngrams: tuple[int, int] = (1, 2)
    char_max_features: int | None = 300_000
    min_df: int = 1
    max_chars: int = 2000
    context_weight: float = 0.5


@dataclass(frozen=True)
class TrainConfig:
    """Regularisation of the two linear models and the calibration folds."""

    features: FeatureConfig = field(default_factory=FeatureConfig)
    model: str = "svm"
    """svm (LinearSVC scores, calibrated by the temperature like logits) | logreg"""
    nb_weighting: bool = False
    """NBSVM-style: one-vs-rest models on features scaled by per-class log-count ratios"""
    kind_c: float = 0.5
    priority_c: float = 0.5
    calibration_folds: int = 4
    seed: int = 13


def normalize(text: str, max_chars: int = 2000) -> str:
    """Lower-case, URLs/mentions/long numbers as placeholders, truncated."""
    text = _URL.sub(" url ", text[: max_chars * 2])
    text = _MENTION.sub(" @user ", text)
    return _LONG_NUM.sub(" 00000 ", text).lower()[:max_chars]


@dataclass
class NgramSpace:
    """One fitted TF-IDF vocabulary (sublinear tf, idf, L2 norm), as scikit-learn computes it."""

    analyzer: str
    """char_wb | word"""
    ngram_range: tuple[int, int]
    vocabulary: dict[str, int]
    idf: np.ndarray
    token_pattern: str | None = None

    def __post_init__(self) -> None:
        self._tokens = re.compile(self.token_pattern) if self.token_pattern else None
        self._word_cache: dict[str, list[int]] = {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__post_init__()

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("_tokens", "_word_cache")}

    @property
    def size(self) -> int:
        return len(self.idf)

    def ngrams(self, doc: str) -> list[str]:
        """The analyzer's n-grams of one (already normalized) document."""
        if self.analyzer == "char_wb":
            return _char_wb_ngrams(doc, *self.ngram_range)
        assert self._tokens is not None
        return _word_ngrams(self._tokens.findall(doc), *self.ngram_range)

    def _word_indices(self, word: str) -> list[int]:
        """Vocabulary indices of one word's char_wb n-grams (cached: they never cross words)."""
        found = self._word_cache.get(word)
        if found is None:
            vocab = self.vocabulary
            found = [i for g in _char_wb_ngrams(word, *self.ngram_range) if (i := vocab.get(g)) is not None]
            if len(self._word_cache) >= WORD_CACHE_SIZE:
                self._word_cache.clear()
            self._word_cache[word] = found
        return found

    def _indices(self, doc: str, out: list[int]) -> None:
        """Append the vocabulary indices of doc's n-grams (with repeats) to out."""
        if self.analyzer == "char_wb":
            for word in doc.split():
                out.extend(self._word_indices(word))
            return
        vocab = self.vocabulary
        out.extend(i for g in self.ngrams(doc) if (i := vocab.get(g)) is not None)

    def batch(self, docs: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, column, value) triples of the L2-normalized sublinear TF-IDF rows of docs."""
        flat: list[int] = []
        lengths = []
        for doc in docs:
            start = len(flat)
            self._indices(doc, flat)
            lengths.append(len(flat) - start)
        rows = np.repeat(np.arange(len(docs), dtype=np.int64), lengths)
        keys, counts = np.unique(rows * self.size + np.asarray(flat, dtype=np.int64), return_counts=True)
        r, c = keys // self.size, keys % self.size
        v = (1.0 + np.log(counts)) * self.idf[c]
        norms = np.sqrt(np.bincount(r, weights=v * v, minlength=len(docs)))
        return r, c, v / norms[r]


_WHITE = re.compile(r"\s\s+")


def _char_wb_ngrams(doc: str, lo: int, hi: int) -> list[str]:
    """Character n-grams inside word boundaries, padded with one space (scikit-learn's char_wb)."""
    out: list[str] = []
    append = out.append
    for word in _WHITE.sub(" ", doc).split():
        w = f" {word} "
        size = len(w)
        for n in range(lo, hi + 1):
            if size <= n:
                append(w)
                break
            for i in range(size - n + 1):
                append(w[i : i + n])
    return out


def _word_ngrams(tokens: list[str], lo: int, hi: int) -> list[str]:
    """Word n-grams joined by one space (scikit-learn's word analyzer)."""
    out = list(tokens) if lo == 1 else []
    for n in range(max(lo, 2), min(hi, len(tokens)) + 1):
        out.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return out


@dataclass
class SparseRows:
    """CSR-shaped rows (indptr, indices, data), the subset of scipy's csr_matrix used here."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    shape: tuple[int, int]

    def toarray(self) -> np.ndarray:
        out = np.zeros(self.shape, dtype=np.float32)
        rows = np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))
        out[rows, self.indices] = self.data
        return out


def sparse_dot(x: Any, weights: np.ndarray) -> np.ndarray:
    """x @ weights for CSR-shaped x (SparseRows or scipy csr_matrix), numpy only."""
    indptr = np.asarray(x.indptr)
    out = np.zeros((len(indptr) - 1, weights.shape[1]), dtype=np.float32)
    if len(x.indices) == 0:
        return out
    contrib = weights[np.asarray(x.indices)] * np.asarray(x.data, dtype=np.float32)[:, None]
    starts = indptr[:-1]
    nonempty = np.diff(indptr) > 0
    out[nonempty] = np.add.reduceat(contrib, starts[nonempty], axis=0)
    return out


@dataclass
class CompiledFeatures:
    """Text char + word n-grams and the replied-to text's words, as one sparse row each."""

    char: NgramSpace
    word: NgramSpace
    context: NgramSpace
    max_chars: int
    context_weight: float

    @property
    def size(self) -> int:
        return self.char.size + self.word.size + self.context.size

    def transform(self, texts: Sequence[str], contexts: Sequence[str | None]) -> SparseRows:
        """The feature matrix of a batch of messages."""
        docs = [normalize(t, self.max_chars) for t in texts]
        ctx = [normalize(c or "", 500) or "noreply" for c in contexts]
        parts = [
            (self.char.batch(docs), 0, 1.0),
            (self.word.batch(docs), self.char.size, 1.0),
            (self.context.batch(ctx), self.char.size + self.word.size, self.context_weight),
        ]
        rows = np.concatenate([r for (r, _, _), _, _ in parts])
        cols = np.concatenate([c + off for (_, c, _), off, _ in parts])
        vals = np.concatenate([v * w for (_, _, v), _, w in parts])
        order = np.argsort(rows, kind="stable")
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=len(docs)))])
        return SparseRows(indptr.astype(np.int64), cols[order], vals[order].astype(np.float32),
                          (len(docs), self.size))  # fmt: skip


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
    """Fit a model on examples (scikit-learn is imported only here)."""
    from core.classification.local.fit import train as fit

    return fit(examples, cfg, calibrate=calibrate)


# --- titles ----------------------------------------------------------------------------

_GREETING = re.compile(
    r"^\s*(?:(?:hi|hello|hey|morning|good (?:morning|afternoon|evening)|привіт|привет|вітаю|"
    r"доброго (?:ранку|дня|вечора)|добрий день|добрый день|доброе утро|здравствуйте|"
    r"всім привіт|всем привет|колеги|коллеги|ребята|ребят|хлопці|folks|team|all|everyone)"
    r"[^\n,!.:;?]{0,20}[,!.:;)]+\s*)+",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
TITLE_MAX = 80


def extract_title(text: str, limit: int = TITLE_MAX) -> str:
    """First line / sentence, greeting and mentions removed, cut at a word to `limit` chars."""
    body = _MENTION.sub("", text).strip()
    stripped = _GREETING.sub("", body, count=1).strip()
    body = stripped or body
    first = next((ln.strip() for ln in body.splitlines() if ln.strip()), "")
    first = _SENTENCE_END.split(first, maxsplit=1)[0].strip()
    first = " ".join(first.split())
    if len(first) > limit:
        cut = first[: limit - 1].rsplit(" ", 1)[0] if " " in first[: limit - 1] else first[: limit - 1]
        first = cut.rstrip(" ,;:-—") + "…"
    return first[:1].upper() + first[1:]


# --- storage ---------------------------------------------------------------------------


def models_dir(data_dir: Path | str) -> Path:
    return Path(data_dir) / MODELS_DIR


def save_model(artifact: LocalModelArtifact, data_dir: Path | str, activate: bool = True) -> Path:
    """Write data_dir/models/<version>.pkl (atomically); optionally make it the active one."""
    root = models_dir(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{artifact.version}.pkl"
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as f:
        pickle.dump(artifact, f, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(path)
    if activate:
        activate_model(data_dir, artifact.version)
    return path


def activate_model(data_dir: Path | str, version: str) -> None:
    """Make `version` the model that LocalClassifier.from_data_dir loads."""
    root = models_dir(data_dir)
    if not (root / f"{version}.pkl").is_file():
        raise FileNotFoundError(f"no local model {version} in {root}")
    (root / ACTIVE_FILE).write_text(version + "\n")


class ModelLoadError(Exception):
    """A model file is missing, unreadable or from an incompatible version of this code."""


def load_model(path: Path | str) -> LocalModelArtifact:
    """Load a pickled model (only files this project wrote under data_dir)."""
    try:
        with Path(path).open("rb") as f:
            artifact = pickle.load(f)
    except (OSError, pickle.UnpicklingError, AttributeError, ImportError, EOFError) as e:
        raise ModelLoadError(f"cannot load local model {path}: {e}") from e
    if not isinstance(artifact, LocalModelArtifact) or not isinstance(
        getattr(artifact, "features", None), CompiledFeatures
    ):
        raise ModelLoadError(f"{path} is not a local model of this version")
    return artifact


def active_model_path(data_dir: Path | str) -> Path | None:
    """The active model's file, if one has been trained and activated."""
    root = models_dir(data_dir)
    with contextlib.suppress(OSError):
        version = (root / ACTIVE_FILE).read_text().strip()
        path = root / f"{version}.pkl"
        if path.is_file():
            return path
    return None


def seed_examples(path: Path | str = SEED_PATH) -> list[Example]:
    """The project's own seed examples."""
    return load_jsonl(path)


# --- the classifier --------------------------------------------------------------------


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
        return cls(load_model(path))

    @classmethod
    def from_data_dir(cls, data_dir: Path | str, seed_path: Path | str = SEED_PATH) -> LocalClassifier:
        """The active model in data_dir; trains (and saves) the seed model when there is none
        or when the active one cannot be loaded (written by an incompatible version)."""
        path = active_model_path(data_dir)
        if path is not None:
            with contextlib.suppress(ModelLoadError):
                return cls.load(path)
        artifact = train(seed_examples(seed_path))
        save_model(artifact, data_dir)
        return cls(artifact)

    def predict_proba(self, messages: Sequence[MessageInput]) -> np.ndarray:
        """Calibrated kind probabilities (columns in `self._kinds` order)."""
        x = self.artifact.features.transform([m.text for m in messages], [m.reply_to for m in messages])
        return softmax(self.artifact.kind_head.logits(x) / self.artifact.temperature)

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
