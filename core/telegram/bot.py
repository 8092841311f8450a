"""The aiogram Bot and Dispatcher, built the same way for the bot process and the API's webhook."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.filters import Filter
from aiogram.types import ChatMemberUpdated, Message

from core.config import Settings
from core.runtime.bootstrap import Services
from core.telegram.convert import is_allowed
from core.telegram.webhook import secret_matches, webhook_secret


class AllowedChat(Filter):
    """Passes updates from the chats in TRACKER_TELEGRAM_CHATS only."""

    async def __call__(self, event: Message | ChatMemberUpdated, services: Services) -> bool:
        return is_allowed(services.settings, event.chat.id)


def build_bot(settings: Settings) -> Bot:
    """A Bot for TELEGRAM_BOT_TOKEN, talking to TRACKER_TELEGRAM_API_URL when set."""
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    api = TelegramAPIServer.from_base(settings.telegram_api_url) if settings.telegram_api_url else None
    session = AiohttpSession(api=api) if api else AiohttpSession()
    return Bot(settings.telegram_bot_token.get_secret_value(), session=session)


def build_dispatcher(services: Services) -> Dispatcher:
    """All the bot's routers; handlers get `services` injected by name."""
    from core.telegram.handlers import commands, membership, messages

    dispatcher = Dispatcher(name="tracker")
    dispatcher["services"] = services
    dispatcher.include_routers(membership.router(), commands.router(), messages.router())
    return dispatcher


@dataclass
class TelegramApp:
    """A bot with its dispatcher: feed it updates, close it at the end."""

    services: Services
    bot: Bot
    dispatcher: Dispatcher
    _secret: str | None = field(default=None, repr=False)

    @classmethod
    def create(cls, services: Services) -> TelegramApp:
        return cls(services, build_bot(services.settings), build_dispatcher(services))

    @property
    def secret(self) -> str:
        """The webhook secret, read when first needed (the bot process may have made it)."""
        if self._secret is None:
            self._secret = webhook_secret(self.services.settings)
        return self._secret

    def accepts(self, presented: str | None) -> bool:
        return secret_matches(self.secret, presented)

    async def close(self) -> None:
        await self.bot.session.close()
