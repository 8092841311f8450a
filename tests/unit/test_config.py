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


def test_a_nats_cluster_is_every_listed_server_and_the_queue_keeps_its_replicas(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from core.runtime.queue import make_broker

    monkeypatch.setenv("TRACKER_NATS_URL", "nats://n1:4222, nats://n2:4222,,nats://n3:4222")
    monkeypatch.setenv("TRACKER_QUEUE_REPLICAS", "3")
    settings = Settings()
    assert settings.nats_servers == ["nats://n1:4222", "nats://n2:4222", "nats://n3:4222"]
    broker = make_broker(settings)
    assert broker.servers == settings.nats_servers  # type: ignore[attr-defined]
    assert broker.stream_config.num_replicas == 3  # type: ignore[attr-defined]
    assert Settings(nats_url=None).nats_servers == [] and Settings().queue_replicas == 3


def test_replicas_outside_what_jetstream_takes_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_QUEUE_REPLICAS", "0")
    with pytest.raises(ValueError, match="queue_replicas"):
        Settings()
