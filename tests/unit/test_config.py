"""Settings read from the environment."""

from __future__ import annotations

import pytest

from core.config import Settings


def test_blank_secrets_and_urls_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TELEGRAM_BOT_TOKEN", "TRACKER_API_KEY", "TRACKER_DATABASE_URL", "TRACKER_NATS_URL"):
        monkeypatch.setenv(name, " ")
    settings = Settings()
    assert settings.telegram_bot_token is None and settings.api_key is None
    assert settings.database_url is None and settings.nats_url is None


def test_prefix_and_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_API_PORT", "9001")
    monkeypatch.setenv("TRACKER_CLASSIFIER", "local")
    settings = Settings()
    assert settings.api_port == 9001 and settings.classifier == "local"
    assert settings.api_url == "http://127.0.0.1:9001"
    assert str(settings.data_dir) == ".tracker" and settings.ollama_url == "http://localhost:11434"


def test_secret_values_are_masked_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_API_KEY", "very-secret-key")
    assert "very-secret-key" not in repr(Settings())
