"""Local classifier: TF-IDF character + word n-grams and linear models, CPU only.

Trained in seconds from labeled examples (the project's seed set plus human labels),
saved under data_dir/models/<version>.pkl; nothing is downloaded. Confidence is the
temperature-scaled probability of the predicted kind, the temperature fitted on
out-of-fold predictions so that it is calibrated on unseen messages.
"""

from __future__ import annotations

import contextlib
import math
import pickle
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

from core.classification.dataset import SEED_PATH, Example, data_hash, load_jsonl
from core.classification.noise import noise_classification
from core.classification.types import Classification, MessageInput, Outcome
from core.models import Kind, Priority

MODELS_DIR = "models"
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
    kind_c: float = 10.0
    priority_c: float = 5.0
    calibration_folds: int = 4
    seed: int = 13


def normalize(text: str, max_chars: int = 2000) -> str:
    """Lower-case, URLs/mentions/long numbers as placeholders, truncated."""
    text = _URL.sub(" url ", text[: max_chars * 2])
    text = _MENTION.sub(" @user ", text)
    return _LONG_NUM.sub(" 00000 ", text).lower()[:max_chars]


class TextFeatures:
    """Char n-grams + word n-grams of the text, word unigrams of the replied-to text."""

    def __init__(self, cfg: FeatureConfig) -> None:
        self.cfg = cfg
        common: dict[str, Any] = {"sublinear_tf": True, "dtype": np.float32, "lowercase": False}
        self.char = TfidfVectorizer(
            analyzer="char_wb", ngram_range=cfg.char_ngrams, min_df=cfg.min_df,
            max_features=cfg.char_max_features, **common,
        )  # fmt: skip
        self.word = TfidfVectorizer(
            analyzer="word", ngram_range=cfg.word_ngrams, min_df=cfg.min_df,
            token_pattern=r"[\w']+|[?!+]", **common,
        )  # fmt: skip
        self.context = TfidfVectorizer(analyzer="word", token_pattern=r"[\w']+|[?!]", **common)

    def _prepare(self, texts: Sequence[str], contexts: Sequence[str | None]) -> tuple[list[str], list[str]]:
        n = self.cfg.max_chars
        return [normalize(t, n) for t in texts], [normalize(c or "", 500) or "noreply" for c in contexts]

    def fit_transform(self, texts: Sequence[str], contexts: Sequence[str | None]) -> csr_matrix:
        t, c = self._prepare(texts, contexts)
        parts = [self.char.fit_transform(t), self.word.fit_transform(t), self.context.fit_transform(c)]
        return self._stack(parts)

    def transform(self, texts: Sequence[str], contexts: Sequence[str | None]) -> csr_matrix:
        t, c = self._prepare(texts, contexts)
        parts = [self.char.transform(t), self.word.transform(t), self.context.transform(c)]
        return self._stack(parts)

    def _stack(self, parts: list[Any]) -> csr_matrix:
        parts[2] = parts[2] * self.cfg.context_weight
        return csr_matrix(hstack(parts, format="csr"))


@dataclass
class LocalModelArtifact:
    """Everything a trained local model needs at prediction time, pickled as one file."""

    version: str
    data_hash: str
    created_at: str
    n_examples: int
    config: TrainConfig
    features: TextFeatures
    kind_model: LogisticRegression
    priority_model: LogisticRegression | None
    temperature: float
    metrics: dict[str, Any]

    @property
    def kinds(self) -> list[Kind]:
        return [Kind(k) for k in self.kind_model.classes_]


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def _logits(model: LogisticRegression, x: csr_matrix) -> np.ndarray:
    scores = np.asarray(model.decision_function(x))
    return np.column_stack([-scores, scores]) / 2 if scores.ndim == 1 else scores


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood (grid search)."""
    best, best_nll = 1.0, math.inf
    for t in np.exp(np.linspace(math.log(0.2), math.log(10.0), 80)):
        p = softmax(logits / t)[np.arange(len(y)), y]
        nll = float(-np.log(np.clip(p, 1e-12, 1.0)).mean())
        if nll < best_nll:
            best, best_nll = float(t), nll
    return best


def _fit_kind(
    cfg: TrainConfig, texts: list[str], ctx: list[str | None], y: list[str]
) -> tuple[TextFeatures, LogisticRegression]:
    feats = TextFeatures(cfg.features)
    model = LogisticRegression(C=cfg.kind_c, max_iter=3000)
    model.fit(feats.fit_transform(texts, ctx), y)
    return feats, model


def _out_of_fold(cfg: TrainConfig, examples: list[Example]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Out-of-fold kind logits, true class indices and class names."""
    y = np.array([e.kind.value for e in examples])
    classes = sorted(set(y))
    folds = min(cfg.calibration_folds, int(min(np.unique(y, return_counts=True)[1])))
    logits = np.zeros((len(examples), len(classes)))
    splitter = StratifiedKFold(n_splits=max(folds, 2), shuffle=True, random_state=cfg.seed)
    for tr, va in splitter.split(np.zeros(len(y)), y):
        feats, model = _fit_kind(cfg, [examples[i].text for i in tr],
                                 [examples[i].reply_to for i in tr], list(y[tr]))  # fmt: skip
        x = feats.transform([examples[i].text for i in va], [examples[i].reply_to for i in va])
        cols = [classes.index(c) for c in model.classes_]
        logits[np.ix_(va, cols)] = _logits(model, x)
    return logits, np.array([classes.index(k) for k in y]), classes


def _calibrate(cfg: TrainConfig, examples: list[Example]) -> tuple[float, dict[str, Any]]:
    """Temperature and cross-validated metrics of the kind model."""
    if len(examples) < 20 or len({e.kind for e in examples}) < 2:
        return 1.0, {}
    logits, y, classes = _out_of_fold(cfg, examples)
    temp = fit_temperature(logits, y)
    probs = softmax(logits / temp)
    pred, conf = probs.argmax(1), probs.max(1)
    high = conf >= 0.9
    return temp, {
        "cv_accuracy": float(accuracy_score(y, pred)),
        "cv_macro_f1": float(f1_score(y, pred, average="macro")),
        "cv_accuracy_at_conf_0_9": float((pred[high] == y[high]).mean()) if high.any() else None,
        "cv_coverage_at_conf_0_9": float(high.mean()),
        "temperature": temp,
        "classes": classes,
    }


def _fit_priority(
    cfg: TrainConfig, feats: TextFeatures, examples: list[Example]
) -> LogisticRegression | None:
    rows = [e for e in examples if e.kind != Kind.noise and e.priority is not None]
    if len({e.priority for e in rows}) < 2:
        return None
    model = LogisticRegression(C=cfg.priority_c, max_iter=3000)
    model.fit(feats.transform([e.text for e in rows], [e.reply_to for e in rows]),
              [e.priority.value for e in rows if e.priority])  # fmt: skip
    return model


def make_version(digest: str, when: datetime | None = None) -> str:
    """Model version: date + short hash of the training data."""
    return f"{(when or datetime.now(UTC)).strftime('%Y%m%d')}-{digest[:8]}"


def train(
    examples: Sequence[Example], cfg: TrainConfig | None = None, *, calibrate: bool = True
) -> LocalModelArtifact:
    """Fit the kind and priority models (and the confidence temperature) on examples."""
    cfg = cfg or TrainConfig()
    rows = [e for e in examples if e.text.strip()]
    if len({e.kind for e in rows}) < 2:
        raise ValueError("training needs examples of at least two kinds")
    started = time.perf_counter()
    temp, metrics = _calibrate(cfg, rows) if calibrate else (1.0, {})
    feats, kind_model = _fit_kind(cfg, [e.text for e in rows], [e.reply_to for e in rows],
                                  [e.kind.value for e in rows])  # fmt: skip
    digest = data_hash(rows)
    metrics |= {"n_examples": len(rows), "train_seconds": round(time.perf_counter() - started, 3)}
    return LocalModelArtifact(
        version=make_version(digest), data_hash=digest, created_at=datetime.now(UTC).isoformat(),
        n_examples=len(rows), config=cfg, features=feats, kind_model=kind_model,
        priority_model=_fit_priority(cfg, feats, rows), temperature=temp, metrics=metrics,
    )  # fmt: skip


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


def load_model(path: Path | str) -> LocalModelArtifact:
    """Load a pickled model (only files this project wrote under data_dir)."""
    with Path(path).open("rb") as f:
        artifact = pickle.load(f)
    if not isinstance(artifact, LocalModelArtifact):
        raise TypeError(f"{path} is not a local model")
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
        prio = artifact.priority_model
        self._priorities = [Priority(p) for p in prio.classes_] if prio is not None else []

    @property
    def classifier_version(self) -> str:
        return self.artifact.version

    @classmethod
    def load(cls, path: Path | str) -> LocalClassifier:
        return cls(load_model(path))

    @classmethod
    def from_data_dir(cls, data_dir: Path | str, seed_path: Path | str = SEED_PATH) -> LocalClassifier:
        """The active model in data_dir; trains (and saves) the seed model when there is none."""
        path = active_model_path(data_dir)
        if path is not None:
            return cls.load(path)
        artifact = train(seed_examples(seed_path))
        save_model(artifact, data_dir)
        return cls(artifact)

    def predict_proba(self, messages: Sequence[MessageInput]) -> np.ndarray:
        """Calibrated kind probabilities (columns in `self._kinds` order)."""
        x = self.artifact.features.transform([m.text for m in messages], [m.reply_to for m in messages])
        return softmax(_logits(self.artifact.kind_model, x) / self.artifact.temperature)

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
        probs = softmax(_logits(self.artifact.kind_model, x) / self.artifact.temperature)
        best = probs.argmax(axis=1)
        prio_idx = self._priority_indices(x)
        out = []
        for row, msg in enumerate(messages):
            kind = self._kinds[best[row]]
            actionable = kind != Kind.noise
            priority = self._priorities[prio_idx[row]] if actionable and prio_idx is not None else None
            out.append(Classification.model_construct(
                kind=kind, priority=priority or (Priority.medium if actionable else None),
                title=extract_title(msg.text) if actionable else "",
                confidence=float(probs[row, best[row]]),
            ))  # fmt: skip
        return out

    def _priority_indices(self, x: csr_matrix) -> np.ndarray | None:
        model = self.artifact.priority_model
        if model is None:
            return None
        return np.asarray(_logits(model, x).argmax(axis=1))

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
