"""For stand-in LLMs (benchmarks and tests): the messages fenced in a batch prompt."""

from __future__ import annotations

import html
import re

from core.classification.types import MessageInput

_FENCED = re.compile(
    r'<message id="(?P<id>[^"]+)">\n(?:<reply_to>(?P<reply_to>.*?)</reply_to>\n)?'
    r"<text>(?P<text>.*?)</text>\n</message>",
    re.S,
)


def read_batch(prompt: str) -> list[MessageInput]:
    """The messages fenced in a batch prompt (the inverse of core's render_batch)."""
    return [
        MessageInput(m["id"], html.unescape(m["text"]), _unescape(m["reply_to"]))
        for m in _FENCED.finditer(prompt)
    ]


def _unescape(text: str | None) -> str | None:
    return None if text is None else html.unescape(text)
