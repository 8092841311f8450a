"""Targets' secrets encrypted at rest (Fernet), with a key from the settings or the data dir."""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr

from core.config import Settings

KEY_FILE = "exports.key"


class Vault:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def seal(self, secret: SecretStr | None) -> str | None:
        return None if secret is None else self._fernet.encrypt(secret.get_secret_value().encode()).decode()

    def open(self, sealed: str | None) -> SecretStr | None:
        if sealed is None:
            return None
        try:
            return SecretStr(self._fernet.decrypt(sealed.encode()).decode())
        except InvalidToken:
            raise ValueError(
                "a target's secret cannot be decrypted with this key (TRACKER_EXPORTS_KEY)"
            ) from None


def vault(settings: Settings) -> Vault:
    """The settings' key (TRACKER_EXPORTS_KEY), else the data dir's, created the first time."""
    if settings.exports_key is not None:
        return Vault(settings.exports_key.get_secret_value().encode())
    return Vault(_stored_key(settings.runtime_dir / KEY_FILE))


def _stored_key(path: Path) -> bytes:
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    key = Fernet.generate_key()
    path.write_bytes(key + b"\n")
    return key
