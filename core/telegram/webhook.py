"""Webhook mode: the API receives updates; only requests carrying the secret are accepted."""

from __future__ import annotations

import secrets

from core.config import Settings
from core.runtime.secrets import stored_secret

WEBHOOK_PATH = "/api/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_secret(settings: Settings) -> str:
    """TRACKER_TELEGRAM_WEBHOOK_SECRET, or one generated into the data dir (shared by bot and API)."""
    configured = settings.telegram_webhook_secret
    secret = configured or stored_secret(settings.runtime_dir / "telegram_webhook_secret")
    return secret.get_secret_value()


def secret_matches(expected: str, presented: str | None) -> bool:
    return presented is not None and secrets.compare_digest(presented.encode(), expected.encode())
