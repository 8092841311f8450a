"""One settings object for every entry point, read from TRACKER_* variables and .env."""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ClassifierMode = Literal["local", "llm", "cascade"]
LLMProvider = Literal["ollama", "openai"]


class Settings(BaseSettings):
    """Task Tracker configuration; every field maps to TRACKER_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="TRACKER_", env_file=".env", extra="ignore")

    data_dir: Path = Path(".tracker")
    database_url: str | None = None
    """External PostgreSQL (postgresql+psycopg://...); unset = embedded server in data_dir."""
    nats_url: str | None = None
    """External NATS with JetStream (nats://...; a cluster's servers comma-separated); unset =
    embedded server in data_dir."""

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_key: SecretStr | None = None
    """Bearer key for the API; `tracker up` generates one into data_dir when unset."""
    max_text_bytes: int = 16 * 1024
    max_batch: int = 1000

    llm_provider: LLMProvider = "ollama"
    ollama_url: str = "http://localhost:11434"
    llm_base_url: str | None = None
    """OpenAI-compatible endpoint (…/v1) used when llm_provider=openai."""
    llm_api_key: SecretStr | None = None
    llm_model: str = "qwen2.5:3b"
    llm_output_mode: Literal["auto", "native", "tool", "prompted"] = "auto"
    llm_timeout: float = 60.0
    llm_retries: int = 2

    classifier: ClassifierMode = "cascade"
    cascade_threshold: float = 0.85
    llm_batch_size: int = 20
    llm_concurrency: int = 4
    """Calls one classification batch keeps in flight at once (a batch larger than llm_batch_size)."""
    summary_batch_size: int = 8
    """Tasks whose LLM title and summary are written in one call (llm and cascade modes)."""
    summary_regrow: int = 3
    """A summarized task is summarized again once its conversation has this many more messages."""
    summary_settle: float = 600.0
    """Seconds a task's conversation must be quiet before it is summarized (one call per burst)."""
    summary_max_wait: float = 7200.0
    """Seconds settled tasks fewer than summary_batch_size wait for others before a call."""
    summary_interval: float = 5.0
    """Seconds between the worker's rounds of summaries (and its retry when the LLM is away)."""

    queue_name: str = "tracker"
    queue_replicas: int = Field(default=1, ge=1, le=5)
    """Copies of the work-queue stream a NATS cluster keeps (JetStream's replicas; 3 survives a node loss)."""
    task_ack_wait: float = 120.0
    retry_base_seconds: float = 2.0
    retry_max_seconds: float = 300.0

    restart_limit: int = 5
    """`tracker up` stops the system when one part exits this many times within restart_window."""
    restart_window: float = 60.0
    restart_backoff: float = 0.5
    """Seconds before the first restart of a part; doubled for each further exit in the window."""
    restart_backoff_max: float = 30.0
    server_check_interval: float = 0.5
    """Seconds between two looks at the embedded PostgreSQL and NATS that `tracker up` started."""

    exports_key: SecretStr | None = None
    """Fernet key the export targets' secrets are encrypted with; unset: generated into data_dir."""
    export_timeout: float = 10.0
    """Seconds one call to a target may take."""
    export_lease: float = 60.0
    """Seconds a worker holds an export it is calling; a crashed one's export is retried after."""
    export_retry_base: float = 1.0
    export_retry_max: float = 300.0
    export_poll_interval: float = 30.0
    """Seconds between two looks at Redmine's changed issues."""
    public_dashboard_url: str | None = None
    """The dashboard's address as people reach it, for links in exported issues."""

    dashboard_port: int = 8501
    dashboard_password: SecretStr | None = None

    telegram_bot_token: SecretStr | None = Field(default=None, validation_alias="TELEGRAM_BOT_TOKEN")
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_chats: Annotated[list[int], NoDecode] = Field(default_factory=list)
    """Chat ids the bot serves: `-1001234,-1005678` (or a JSON list)."""
    telegram_api_url: str | None = None
    """Custom Bot API server base URL (tests use a local stand-in)."""
    telegram_notify_critical: bool = False

    slack_signing_secret: SecretStr | None = None
    """The Slack app's signing secret: POST /api/slack/events takes only requests it signed."""
    slack_channels: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Slack channel ids whose events are stored: `C0123,C0456` (or a JSON list)."""
    slack_bot_token: SecretStr | None = None
    """The Slack app's bot token (xoxb-…, scope users:read): events' authors are named through
    users.info. Unset: names only where the event carries them."""
    slack_api_url: str | None = None
    """Slack's Web API base URL (default https://slack.com/api/; tests use a local stand-in)."""

    email_imap_url: str | None = None
    """The support mailbox: imaps://host[:port]/MAILBOX (imap:// without TLS); `tracker up`
    follows it when set."""
    email_imap_user: str | None = None
    email_imap_password: SecretStr | None = None
    email_poll_seconds: float = 60.0
    """How long one IDLE waits before it is renewed (or, without IDLE, between two looks)."""
    email_reply_critical: bool = False
    """Reply to an email's sender when a person accepts the critical task it reported (needs
    TRACKER_EMAIL_SMTP_URL)."""
    email_smtp_url: str | None = None
    """Where replies are sent: smtps://host[:465] or smtp://host[:587] (STARTTLS when offered)."""
    email_smtp_user: str | None = None
    email_smtp_password: SecretStr | None = None
    email_from: str | None = None
    """The replies' From address (default TRACKER_EMAIL_IMAP_USER)."""

    @field_validator(
        "api_key", "llm_api_key", "dashboard_password", "exports_key", "telegram_bot_token",
        "telegram_webhook_secret", "slack_signing_secret", "slack_bot_token", "slack_api_url",
        "email_imap_url", "email_imap_user", "email_smtp_url", "email_smtp_user", "email_smtp_password",
        "email_from",
        "email_imap_password", "database_url", "nats_url", "llm_base_url", "telegram_webhook_url",
        "telegram_api_url", "public_dashboard_url",
        mode="before",
    )  # fmt: skip
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """`VAR=` in a .env file means "not set", not an empty secret or URL."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("telegram_chats", "slack_channels", mode="before")
    @classmethod
    def _chat_list(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            return (
                json.loads(text)
                if text.startswith("[")
                else [p.strip() for p in text.split(",") if p.strip()]
            )
        return value

    @property
    def nats_servers(self) -> list[str]:
        """The NATS servers to connect to: nats_url split at its commas."""
        return [url.strip() for url in (self.nats_url or "").split(",") if url.strip()]

    @cached_property
    def runtime_dir(self) -> Path:
        return self.data_dir.resolve()

    @property
    def api_url(self) -> str:
        return f"http://{self.api_host}:{self.api_port}"

    @property
    def dashboard_url(self) -> str:
        return (self.public_dashboard_url or f"http://{self.api_host}:{self.dashboard_port}").rstrip("/")


def get_settings(**overrides: object) -> Settings:
    """Read settings from the environment, with explicit overrides on top."""
    return Settings(**overrides)  # type: ignore[arg-type]
