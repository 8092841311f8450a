"""Chat and sender ids of every export vintage, as the Bot API writes them.

Imported and live messages meet only if they carry the same ids, whatever year the export
comes from. Telegram Desktop wrote ids three ways:
- until October 2020 `from_id` was the sender's bare user id (an integer);
- until April 2021 ids were peer ids with the type in the high bits: a user's id plus 2**32,
  a group's or a channel's plus 2**33 (chats' `id` since December 2018, `from_id` from
  October 2020);
- since April 2021 a chat's `id` is bare and `from_id` a string: `user42`, `chat42`, `channel42`.
Exports made before December 2018 carry no ids at all.
"""

from __future__ import annotations

from core.channels.fields import Invalid, checked

USER_SHIFT = 1 << 32
CHAT_SHIFT = 2 << 32
_BARE = (1 << 32) - 1
SUPERGROUP_TYPES = {"private_supergroup", "public_supergroup", "private_channel", "public_channel"}
GROUP_TYPES = {"private_group"}


def chat_id(export_id: int, kind: str | None, legacy: bool | None) -> str:
    """The Bot API's id of an exported chat. `legacy` tells whether its messages name
    senders the old way (integers); None when they did not say, then the id's shape decides."""
    group = kind in SUPERGROUP_TYPES or kind in GROUP_TYPES
    shift = CHAT_SHIFT if group else USER_SHIFT
    if legacy is None:
        legacy = export_id >> 32 == shift >> 32 and export_id & _BARE < 1 << 31
    bare = export_id & _BARE if legacy and export_id >= shift else export_id
    if kind in SUPERGROUP_TYPES:
        return f"-100{bare}"
    return str(-bare if group else bare)


def unnamed_chat_id(kind: str | None, name: str | None) -> str:
    """Exports made before December 2018 have no ids: the chat is known by its type and name."""
    return f"export:{kind or 'chat'}:{name or ''}"[:128]


def author_id(from_id: object, key: str = "from_id") -> str | None:
    """`user123` -> `123`, `channel123` -> `-100123`, `chat123` -> `-123`; old integer ids alike.

    Only users and channels (a channel's posts, a supergroup's anonymous admins) send
    messages, so an old id with the group offset is a channel's."""
    if from_id is None:
        return None
    if isinstance(from_id, int) and not isinstance(from_id, bool):
        if from_id >= CHAT_SHIFT:
            return f"-100{from_id & _BARE}"
        return str(from_id & _BARE if from_id >= USER_SHIFT else from_id)
    if not isinstance(from_id, str):
        raise Invalid(f"'{key}' must be a string or an integer, not {from_id!r:.40}")
    from_id = checked(from_id.replace("\x00", "") if "\x00" in from_id else from_id, key)
    if from_id.startswith("user"):
        return from_id[4:132]
    if from_id.startswith("channel"):
        return f"-100{from_id[7:131]}"
    if from_id.startswith("chat"):
        return f"-{from_id[4:131]}"
    return from_id[:128]


def names_senders_by_integer(raw: dict[str, object]) -> bool | None:
    """Whether a message comes from an export that wrote sender ids as integers (None: no sender)."""
    sender = raw.get("from_id", raw.get("actor_id"))
    if sender is None:
        return None
    return isinstance(sender, int)
