"""The bot process: long polling by default; in webhook mode it registers the API's webhook.
Either way it can tell a chat when a critical task opens there."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from core.config import Settings
from core.runtime.embedded import stop_on_signals
from core.runtime.system import open_system
from core.telegram.bot import TelegramApp
from services.bot.notify import notify_critical

log = logging.getLogger("tracker.bot")


async def run_bot(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Serve Telegram until `stop` is set (or SIGINT/SIGTERM arrives)."""
    stop = stop or stop_on_signals()
    with open_system(settings, migrate=False) as system:  # `tracker up` / `tracker bot` migrated already
        services = await system.services()
        telegram = TelegramApp.create(services)
        subscription = await notify_critical(telegram) if settings.telegram_notify_critical else None
        try:
            if settings.telegram_webhook_url:
                await _register_webhook(telegram, settings.telegram_webhook_url)
                await stop.wait()
            else:
                await _poll(telegram, stop)
        finally:
            if subscription is not None:
                await subscription.unsubscribe()
            await telegram.close()
            await services.close()


async def _register_webhook(telegram: TelegramApp, url: str) -> None:
    """Telegram will POST updates to the API, with the secret in a header."""
    await telegram.bot.set_webhook(
        url,
        secret_token=telegram.secret,
        allowed_updates=telegram.dispatcher.resolve_used_update_types(),
    )
    log.info("webhook registered: %s", url)


async def _poll(telegram: TelegramApp, stop: asyncio.Event) -> None:
    await telegram.bot.delete_webhook()  # getUpdates is refused while a webhook is set
    polling = asyncio.create_task(
        telegram.dispatcher.start_polling(telegram.bot, handle_signals=False, close_bot_session=False)
    )
    log.info("polling for updates")
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait([polling, stopping], return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    with suppress(RuntimeError):  # polling had already ended
        await telegram.dispatcher.stop_polling()
    await polling
