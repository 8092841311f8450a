"""POST /api/telegram/webhook: Telegram's updates in webhook mode, checked by their secret."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, FastAPI, Header, HTTPException, Request
from pydantic import ValidationError

from core.telegram.webhook import SECRET_HEADER, WEBHOOK_PATH
from services.api.deps import field_error
from services.api.problems import problems

if TYPE_CHECKING:  # aiogram costs seconds to import: only webhook mode loads it
    from aiogram.types import Update

    from core.telegram.bot import TelegramApp


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """A bot and dispatcher for this process, when the webhook mode is configured."""
    services = app.state.tracker.services
    settings = services.settings
    configured = settings.telegram_bot_token is not None and settings.telegram_webhook_url is not None
    app.state.telegram = None
    if configured:
        from core.telegram.bot import TelegramApp

        app.state.telegram = TelegramApp.create(services)
    try:
        yield
    finally:
        if app.state.telegram is not None:
            await app.state.telegram.close()


router = APIRouter(tags=["telegram"], lifespan=lifespan)


@router.post(WEBHOOK_PATH, responses=problems(400, 401, 404, 413, 422, 503))
async def webhook(
    request: Request, secret: Annotated[str | None, Header(alias=SECRET_HEADER)] = None
) -> dict[str, bool]:
    """One update from Telegram; without the matching secret header: 401, nothing stored."""
    telegram: TelegramApp | None = request.app.state.telegram
    if telegram is None:
        raise HTTPException(
            404, "webhook mode is off: set TELEGRAM_BOT_TOKEN and TRACKER_TELEGRAM_WEBHOOK_URL"
        )
    if not telegram.accepts(secret):
        raise HTTPException(401, f"missing or wrong {SECRET_HEADER}")
    await telegram.dispatcher.feed_update(telegram.bot, await _update(request, telegram))
    return {"ok": True}


async def _update(request: Request, telegram: TelegramApp) -> Update:
    from aiogram.types import Update

    try:
        return Update.model_validate(await request.json(), context={"bot": telegram.bot})
    except ValidationError as exc:
        raise field_error("body", f"not a Telegram update: {exc.errors()[0]['msg']}") from exc
    except ValueError as exc:
        raise field_error("body", "not JSON") from exc
