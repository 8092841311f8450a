"""Helpers for tests that talk to a real API process: settings, auth and row counts."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import Engine, text

from core.config import Settings
from tests.conftest import API_KEY

AUTH = {"Authorization": f"Bearer {API_KEY}"}
TABLES = ("messages", "issues", "tasks", "task_messages", "labels", "events")


def api_settings(
    data_dir: Path, database_url: str, nats_url: str, queue_name: str, **extra: object
) -> Settings:
    """Settings for an API process on the suite's servers (module-scoped fixtures use this)."""
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        nats_url=nats_url,
        queue_name=queue_name,
        api_key=SecretStr(API_KEY),
        **extra,  # type: ignore[arg-type]
    )


def row_counts(engine: Engine) -> dict[str, int]:
    """How many rows each table the API writes holds."""
    with engine.connect() as conn:
        return {t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in TABLES}


def message(external_id: str, **extra: object) -> dict[str, object]:
    """A valid POST /api/messages body."""
    return {"source": "api", "chat_id": "c1", "external_id": external_id, "text": "checkout fails"} | extra
