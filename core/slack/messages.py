"""One Slack message (an Events API event's or an export's) -> what core stores of it.

Slack writes text with its own markup: `<@U123>` mentions, `<#C1|general>` channels,
`<https://…|label>` links, and escapes `&`, `<`, `>` as HTML entities.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

STORED_SUBTYPES = frozenset({None, "file_share", "thread_broadcast", "me_message"})
"""What people write; joins, topic changes, bot posts and the like are not stored."""
_MARKUP = re.compile(r"<([@#!]?)([^<>|]+)(?:\|([^<>]*))?>")


def written_by_people(raw: Mapping[str, Any]) -> bool:
    """True for a person's message; False for bots, apps and channel service messages."""
    return raw.get("subtype") in STORED_SUBTYPES and not raw.get("bot_id")


def plain_text(raw: Mapping[str, Any], names: Mapping[str, str] | None = None) -> str:
    """The message's text without Slack's markup, then its files' titles, one a line."""
    text = raw.get("text")
    shown = text if isinstance(text, str) else ""
    if "<" in shown:
        shown = _MARKUP.sub(lambda m: _readable(m, names or {}), shown)
    if "&" in shown:
        shown = html.unescape(shown)
    titles = [f"[file] {t}" for t in file_titles(raw)] if "files" in raw else []
    return "\n".join([shown, *titles]) if titles else shown


def _readable(match: re.Match[str], names: Mapping[str, str]) -> str:
    sigil, target, label = match.groups()
    if sigil == "@":
        return f"@{label or names.get(target, target)}"
    if sigil == "#":
        return f"#{label or target}"
    if sigil == "!":  # <!here>, <!channel>, <!subteam^S1|@team>
        return label or f"@{target.split('^')[0]}"
    return label or target


def file_titles(raw: Mapping[str, Any]) -> list[str]:
    files = raw.get("files")
    if not isinstance(files, list):
        return []
    titles = (f.get("title") or f.get("name") for f in files if isinstance(f, dict))
    return [t for t in titles if isinstance(t, str) and t]


def reply_to(raw: Mapping[str, Any]) -> str | None:
    """A thread reply's parent: the thread's first message (`thread_ts`), else nothing."""
    thread, ts = raw.get("thread_ts"), raw.get("ts")
    return thread if isinstance(thread, str) and thread != ts else None


def sent_at(ts: str) -> datetime:
    """Slack's message id is its send time: seconds since the epoch, with microseconds."""
    return datetime.fromtimestamp(float(ts), UTC)


def shown_name(user: Mapping[str, Any]) -> str | None:
    """The name Slack shows for a user object (users.json, users.info): real name, else
    display name, else handle."""
    profile = user.get("profile")
    profile = profile if isinstance(profile, dict) else {}
    shown = user.get("real_name") or profile.get("real_name") or profile.get("display_name")
    shown = shown or user.get("name")
    return shown[:256] if isinstance(shown, str) and shown else None


def author_name(raw: Mapping[str, Any], names: Mapping[str, str] | None = None) -> str | None:
    """The name Slack showed: the message's profile, else the workspace's user list."""
    profile = raw.get("user_profile")
    if isinstance(profile, dict):
        shown = profile.get("real_name") or profile.get("display_name") or profile.get("name")
        if isinstance(shown, str) and shown:
            return shown[:256]
    user = raw.get("user")
    return names.get(user) if names and isinstance(user, str) else None
