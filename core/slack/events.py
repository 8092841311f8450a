"""Slack's Events API: one event_callback's message event -> stored, edited or marked deleted.

Each event says what became of it (stored, known, edited, deleted, ignored and why); the
API logs that line and answers 200, so Slack does not send it again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from core.channels import MessageKey, live
from core.config import Settings
from core.runtime.bootstrap import Services
from core.schemas import MessageCreate
from core.slack import SOURCE
from core.slack.messages import author_name, file_titles, plain_text, reply_to, sent_at, written_by_people
from core.slack.users import SlackUsers

log = logging.getLogger("tracker.slack")
Event = Mapping[str, Any]


class SlackChannel:
    """Slack as a core channel (core.channels.Channel): a message event in."""

    source = SOURCE

    def message(self, native: Event) -> MessageCreate | None:
        ts, channel = native.get("ts"), native.get("channel")
        if not written_by_people(native) or not isinstance(ts, str) or not isinstance(channel, str):
            return None
        text = plain_text(native)
        user = native.get("user")
        return MessageCreate(
            source=SOURCE,
            chat_id=channel,
            external_id=ts,
            text=text,
            author_id=user if isinstance(user, str) else None,
            author=author_name(native),
            sent_at=sent_at(ts),
            reply_to_external_id=reply_to(native),
            media_kind="file" if file_titles(native) else None,
            classify=bool(text.strip()),
        )


CHANNEL = SlackChannel()


def allowed(settings: Settings, channel: object) -> bool:
    """Whether events of this channel are stored (TRACKER_SLACK_CHANNELS)."""
    return isinstance(channel, str) and channel in settings.slack_channels


async def handle_event(services: Services, event: Event, users: SlackUsers | None = None) -> str:
    """Store what a message event says (authors named through `users` when given); returns
    what became of it, for the log."""
    if event.get("type") != "message":
        return f"ignored: a {event.get('type')!r} event, not a message"
    channel = event.get("channel")
    if not allowed(services.settings, channel):
        return f"ignored: channel {channel!r} is not in TRACKER_SLACK_CHANNELS"
    subtype = event.get("subtype")
    if subtype == "message_changed":
        return await _changed(services, event)
    if subtype == "message_deleted":
        return await _deleted(services, event)
    if users is not None and written_by_people(event):
        event = await users.named(event)
    return await _new(services, event)


async def _new(services: Services, event: Event) -> str:
    result = await live.receive(services, CHANNEL, event)
    if result is None:
        kind = "a bot" if event.get("bot_id") else repr(event.get("subtype"))
        return f"ignored: {kind} message"
    return f"{'stored' if result.created else 'known'} message {result.message.id}"


async def _changed(services: Services, event: Event) -> str:
    """An edit; a thread's first message deleted under its replies becomes a tombstone."""
    inner = {**(event.get("message") or {}), "channel": event["channel"]}
    if inner.get("subtype") == "tombstone":
        return await _deleted(services, {**event, "deleted_ts": inner.get("ts")})
    item = CHANNEL.message(inner)
    if item is None:
        return "ignored: an edit of a bot or service message"
    edited = inner.get("edited")
    at = sent_at(edited["ts"]) if isinstance(edited, dict) and isinstance(edited.get("ts"), str) else None
    if await live.edit(services, MessageKey(SOURCE, item.chat_id, item.external_id), item.text, at):
        return f"edited message {item.external_id}"
    return await _new(services, inner)  # sent before we listened: stored as it reads now


async def _deleted(services: Services, event: Event) -> str:
    """Marked deleted, never dropped; one we never saw is stored from Slack's copy first."""
    ts = event.get("deleted_ts")
    if not isinstance(ts, str):
        return "ignored: a deletion without deleted_ts"
    key = MessageKey(SOURCE, event["channel"], ts)
    at = sent_at(event["ts"]) if isinstance(event.get("ts"), str) else None
    if await live.delete(services, key, at) is None:
        previous = event.get("previous_message")
        if not isinstance(previous, dict) or CHANNEL.message({**previous, "channel": key.chat_id}) is None:
            return f"ignored: deletion of unknown message {ts}"
        await live.receive(services, CHANNEL, {**previous, "channel": key.chat_id})
        await live.delete(services, key, at)
    return f"deleted message {ts} (kept, marked)"
