"""Extractive titles: a message's first line or sentence, without greeting or mentions."""

from __future__ import annotations

import re

from core.classification.local.features import MENTION

TITLE_MAX = 80
_GREETING = re.compile(
    r"^\s*(?:(?:hi|hello|hey|morning|good (?:morning|afternoon|evening)|привіт|привет|вітаю|"
    r"доброго (?:ранку|дня|вечора)|добрий день|добрый день|доброе утро|здравствуйте|"
    r"всім привіт|всем привет|колеги|коллеги|ребята|ребят|хлопці|folks|team|all|everyone)"
    r"[^\n,!.:;?]{0,20}[,!.:;)]+\s*)+",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def extract_title(text: str, limit: int = TITLE_MAX) -> str:
    """First line / sentence, greeting and mentions removed, cut at a word to `limit` chars."""
    body = MENTION.sub("", text).strip()
    stripped = _GREETING.sub("", body, count=1).strip()
    body = stripped or body
    first = next((ln.strip() for ln in body.splitlines() if ln.strip()), "")
    first = _SENTENCE_END.split(first, maxsplit=1)[0].strip()
    first = " ".join(first.split())
    if len(first) > limit:
        cut = first[: limit - 1].rsplit(" ", 1)[0] if " " in first[: limit - 1] else first[: limit - 1]
        first = cut.rstrip(" ,;:-—") + "…"
    return first[:1].upper() + first[1:]
