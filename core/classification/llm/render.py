"""The user prompt of a batch: each message as data inside <message id="N"> tags."""

from __future__ import annotations

import html
from collections.abc import Sequence

from core.classification.types import MessageInput


def fence(text: str) -> str:
    """Escape text so it cannot close or forge the tags that fence it."""
    return html.escape(text, quote=False)


def render_message(message_id: str, message: MessageInput) -> str:
    """One message as data inside its tags, with the text it replies to."""
    lines = [f'<message id="{message_id}">']
    if message.reply_to:
        lines.append(f"<reply_to>{fence(message.reply_to)}</reply_to>")
    lines += [f"<text>{fence(message.text)}</text>", "</message>"]
    return "\n".join(lines)


def render_batch(messages: Sequence[MessageInput]) -> str:
    """The user prompt for a batch: ids 1..n, in order."""
    head = f"Classify each of these {len(messages)} messages; return one result per id."
    body = (render_message(str(i), m) for i, m in enumerate(messages, 1))
    return "\n\n".join([head, *body])
