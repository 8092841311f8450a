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


_CONVERSATION = re.compile(r'<conversation task="(?P<task>[^"]+)">\n(?P<body>.*?)\n</conversation>', re.S)
_SAID = re.compile(r'<message author="[^"]*" at="[^"]*">(?P<text>.*?)</message>', re.S)


def read_conversations(prompt: str) -> dict[str, list[str]]:
    """Task id -> message texts of every conversation fenced in a summary prompt (the
    inverse of core.conversations.summaries.render)."""
    return {
        m["task"]: [html.unescape(said["text"]) for said in _SAID.finditer(m["body"])]
        for m in _CONVERSATION.finditer(prompt)
    }


def summary_item(task_id: str, texts: list[str]) -> dict[str, str]:
    """A stand-in's title and summary: the opening message, and how the thread ends."""
    first = texts[0] if texts else ""
    last = texts[-1] if texts else ""
    return {
        "task_id": task_id,
        "title": first[:80],
        "summary": f"{len(texts)} messages.\nLatest: {last[:120]}",
    }
