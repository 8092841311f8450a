"""The local model's features: normalized text, its char + word n-grams and the replied-to
text's words, as one CSR-shaped sparse row per message (numpy only)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.classification.local.ngrams import NgramSpace

MENTION = re.compile(r"(?<!\w)@\w+")
_URL = re.compile(r"https?://\S+|www\.\S+")
_LONG_NUM = re.compile(r"\d{5,}")
_QUESTION_OPENER = re.compile(
    r"(?:^|[.!?:)]\s)\W*(?:(?:і |и )?(?:ще|ещё|еще|one more|another|also|next)[ ,:]+)?"
    r"(?:питання|питаннячко|вопрос|вопросик|pytannia|vopros|quick q(?:uestion)?|question"
    r"|q:|any eta|do we have|is there|are we|is it|чи є|чи можна|а чи|есть ли|можно ли)\b"
)


@dataclass(frozen=True)
class FeatureConfig:
    """Which n-grams to extract and how much text to read."""

    char_ngrams: tuple[int, int] = (2, 5)
    word_ngrams: tuple[int, int] = (1, 2)
    char_max_features: int | None = 300_000
    min_df: int = 1
    max_chars: int = 2000
    context_weight: float = 0.5
    markers: bool = True
    """append the marker word of `shape_markers` to the text (a tried marker for messages that
    open with a person's name lowered the shared dev set's macro-F1 from 0.922 to 0.905)"""


def shape_markers(text: str) -> str:
    """A marker word for an explicit question opener, at the start of the text or of a sentence
    and with a question mark in the text ("Питання: ...?", "Ще вопрос від клієнта: ...?",
    "quick q ...?", "any ETA ...?"): what a message opens with weighs more than its words."""
    return "xquestionopenerx" if "?" in text and _QUESTION_OPENER.search(text.lower()) else ""


def normalize(text: str, max_chars: int = 2000) -> str:
    """Lower-case, URLs/mentions/long numbers as placeholders, truncated."""
    text = _URL.sub(" url ", text[: max_chars * 2])
    text = MENTION.sub(" @user ", text)
    return _LONG_NUM.sub(" 00000 ", text).lower()[:max_chars]


def normalize_batch(
    texts: Sequence[str], contexts: Sequence[str | None], max_chars: int, markers: bool = False
) -> tuple[list[str], list[str]]:
    """Normalized texts (with their shape markers when asked) and replied-to texts (a message
    that replies to nothing reads "noreply")."""
    docs = [normalize(t, max_chars) for t in texts]
    if markers:
        docs = [f"{d} {shape_markers(t)}" for d, t in zip(docs, texts, strict=True)]
    return docs, [normalize(c or "", 500) or "noreply" for c in contexts]


@dataclass
class SparseRows:
    """CSR-shaped rows (indptr, indices, data), the subset of scipy's csr_matrix used here."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    shape: tuple[int, int]


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
    markers: bool = False
    """models trained before the shape markers load with False and read texts as they did"""

    @property
    def size(self) -> int:
        return self.char.size + self.word.size + self.context.size

    def transform(self, texts: Sequence[str], contexts: Sequence[str | None]) -> SparseRows:
        """The feature matrix of a batch of messages."""
        docs, ctx = normalize_batch(texts, contexts, self.max_chars, self.markers)
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
