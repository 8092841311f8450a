"""Generated secrets (API key, dashboard password) kept in the data dir, mode 0600."""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import SecretStr

from core.config import Settings


def stored_secret(path: Path, nbytes: int = 24) -> SecretStr:
    """Read a secret from `path`, creating it the first time."""
    if path.exists():
        return SecretStr(path.read_text().strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(nbytes)
    path.touch(mode=0o600)
    path.write_text(value + "\n")
    return SecretStr(value)


def with_secrets(settings: Settings) -> Settings:
    """Settings with an API key and a dashboard password, generated when unset."""
    root = settings.runtime_dir
    return settings.model_copy(
        update={
            "api_key": settings.api_key or stored_secret(root / "api_key"),
            "dashboard_password": settings.dashboard_password
            or stored_secret(root / "dashboard_password", 12),
        }
    )
