"""One exported chat: its header, the vintage its ids are written in, its forum topics.

A group migrated to a supergroup is exported as one chat, the supergroup: the old group's
messages come first, with ids below zero (their own id minus 10**9), between a
`migrate_from_group` service message and a `migrate_to_supergroup` one, so they are stored
in the supergroup's chat as written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.channels.fields import Invalid, checked, clip
from core.telegram.export.ids import chat_id, names_senders_by_integer, unnamed_chat_id


@dataclass
class Chat:
    """A chat's header, and the titles of its forum topics seen so far."""

    export_id: int | None = None
    name: str | None = None
    type: str | None = None
    topics: dict[int, str] = field(default_factory=dict)
    index: int = 0
    """How many of its messages were read (the position named in errors)."""
    _header: tuple[str, str | None] | None = field(default=None, init=False, repr=False)

    def header(self, first: dict[str, Any]) -> tuple[str, str | None]:
        """(chat_id, title), worked out once, at its first message (exports put the header
        first); that message tells which vintage the ids are written in."""
        if self._header is None:
            self._header = (self.chat_id(names_senders_by_integer(first)), self.title)
        return self._header

    @property
    def title(self) -> str | None:
        if self.name is not None and not isinstance(self.name, str):
            raise Invalid(f"the chat's 'name' must be a string, not {self.name!r:.40}")
        return clip(checked(self.name.replace("\x00", ""), "name")) if self.name else None

    def chat_id(self, legacy: bool | None = None) -> str:
        """The id the Bot API uses for the same chat, so imported and live messages meet."""
        if self.export_id is None:
            return unnamed_chat_id(self.type, self.title)
        if isinstance(self.export_id, bool) or not isinstance(self.export_id, int):
            raise Invalid(f"the chat's 'id' must be an integer, not {self.export_id!r:.40}")
        return chat_id(self.export_id, self.type, legacy)

    def where(self) -> str:
        name = f"chat {self.name!r}" if self.name else "the chat"
        return f"message #{self.index} of {name}" if self.index else f"the start of {name}"
