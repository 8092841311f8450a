"""Critical-task notices: task.created events from NATS, replied to in the chat."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiogram.types import ReplyParameters
from nats.aio.subscription import Subscription

from core import events
from core.db import session_scope
from core.runtime.queue import events_subject
from core.telegram.bot import TelegramApp
from core.telegram.notify import Notice, critical_notice

log = logging.getLogger("tracker.bot")


async def notify_critical(telegram: TelegramApp) -> Subscription:
    """Reply in the chat under the message that opened a critical task."""
    services = telegram.services

    def notices(batch: list[dict[str, Any]]) -> list[Notice]:
        with session_scope(services.engine) as session:
            found = (critical_notice(session, services.settings, event) for event in batch)
            return [notice for notice in found if notice]

    async def on_events(msg: Any) -> None:
        for notice in await asyncio.to_thread(notices, events.decode(msg.data)):
            try:
                await telegram.bot.send_message(
                    notice.chat_id,
                    notice.text,
                    reply_parameters=ReplyParameters(
                        message_id=notice.reply_to, allow_sending_without_reply=True
                    ),
                )
            except Exception:
                log.exception("could not send the critical notice to chat %s", notice.chat_id)

    return await services.nats.subscribe(events_subject(services.settings), cb=on_events)
