"""One TF-IDF n-gram vocabulary, applied with numpy only, as scikit-learn computes it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

WORD_CACHE_SIZE = 200_000
_WHITE = re.compile(r"\s\s+")


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
