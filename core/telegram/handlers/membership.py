"""When the bot is added to a chat it says, once, whether it serves it."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import JOIN_TRANSITION, ChatMemberUpdatedFilter
from aiogram.types import ChatMemberUpdated

from core.runtime.bootstrap import Services
from core.telegram.convert import is_allowed
from core.telegram.replies import enabled_text, not_enabled_text


async def on_added(event: ChatMemberUpdated, bot: Bot, services: Services) -> None:
    """Greet a served chat; tell any other chat the id to add to TRACKER_TELEGRAM_CHATS."""
    allowed = is_allowed(services.settings, event.chat.id)
    await bot.send_message(event.chat.id, enabled_text() if allowed else not_enabled_text(event.chat.id))


def router() -> Router:
    membership = Router(name="membership")
    membership.my_chat_member.register(on_added, ChatMemberUpdatedFilter(JOIN_TRANSITION))
    return membership
