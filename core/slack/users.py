"""Who wrote a Slack message: names through Slack's Web API (users.info), cached per user.

Events API message events carry only the author's id; `users.info` (scope users:read) gives
the name Slack shows. A name is kept for `NAME_TTL` seconds; when Slack cannot answer (down,
rate-limited, a revoked token), the message is stored all the same, with the name known so
far (or none), and Slack is asked again after `RETRY_AFTER` seconds, not for every message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from core.config import Settings
from core.slack.messages import shown_name

log = logging.getLogger("tracker.slack")
NAME_TTL = 3600.0
RETRY_AFTER = 60.0
TIMEOUT = 5


class SlackUsers:
    """Author names by user id, asked of users.info once and cached."""

    def __init__(self, token: str, base_url: str | None = None) -> None:
        self.client = WebClient(token=token, base_url=base_url or WebClient.BASE_URL, timeout=TIMEOUT)
        self.cached: dict[str, tuple[str | None, float]] = {}
        """user id -> (name, when to ask again, on the monotonic clock)."""

    @classmethod
    def configured(cls, settings: Settings) -> SlackUsers | None:
        """The resolver when TRACKER_SLACK_BOT_TOKEN is set; None leaves names to the events."""
        token = settings.slack_bot_token
        return cls(token.get_secret_value(), settings.slack_api_url) if token else None

    async def name(self, user_id: str) -> str | None:
        """The name Slack shows for the user; the last one known (or None) when Slack fails."""
        known, until = self.cached.get(user_id, (None, 0.0))
        if time.monotonic() < until:
            return known
        try:
            answer = await asyncio.to_thread(self.client.users_info, user=user_id)
            user = answer.get("user")
            name = shown_name(user) if isinstance(user, dict) else None
        except (SlackClientError, OSError, ValueError) as exc:
            log.warning("slack users.info for %s failed, the author's name stays %r: %s", user_id, known, exc)
            self.cached[user_id] = (known, time.monotonic() + RETRY_AFTER)
            return known
        self.cached[user_id] = (name, time.monotonic() + NAME_TTL)
        return name

    async def named(self, event: Mapping[str, Any]) -> Mapping[str, Any]:
        """The event with its author's name (as a user_profile) when it came without one."""
        user = event.get("user")
        if not isinstance(user, str) or isinstance(event.get("user_profile"), dict):
            return event
        name = await self.name(user)
        return {**event, "user_profile": {"real_name": name}} if name else event
