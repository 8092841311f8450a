"""Channels: where messages come from (Telegram, Slack, a mailbox) and how each becomes core's input.

A channel turns its native messages into `MessageCreate` (live) or `BulkRow` (history),
keeping its own identity in `source` (the channel), `chat_id` (its chat, channel or
mailbox), `author_id` / `author`, and its thread structure in `reply_to_external_id` (the
parent's `external_id` in the same chat). Everything after that is core's: storage once per
(source, chat_id, external_id), reply links, classification, conversations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar

from core.schemas import MessageCreate

Native = TypeVar("Native", contravariant=True)


@dataclass(frozen=True)
class MessageKey:
    """One channel message, wherever it is stored: the unique key of the messages table."""

    source: str
    chat_id: str
    external_id: str


class Channel(Protocol[Native]):
    """A channel's live side: one native message in, the message to store out."""

    source: str
    """The channel's name in the messages' `source` column (telegram, slack, email)."""

    def message(self, native: Native) -> MessageCreate | None:
        """The message to store, or None for what the channel does not store (service, bots)."""
        ...
