"""One message's fields, checked: what PostgreSQL cannot store is refused with the field's name."""

from __future__ import annotations

from typing import Any


class Invalid(ValueError):
    """One field of one message has the wrong type or an unstorable value."""


def optional_int(raw: dict[str, Any], key: str) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"'{key}' must be an integer, not {value!r:.40}")
    return value


def required_int(raw: dict[str, Any], key: str) -> int:
    value = optional_int(raw, key)
    if value is None:
        raise Invalid(f"'{key}' is missing")
    return value


def optional_str(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid(f"'{key}' must be a string, not {value!r:.40}")
    return checked(value.replace("\x00", "") if "\x00" in value else value, key)


def encoded(value: str, key: str) -> bytes:
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid(f"'{key}' must be valid Unicode (it holds a lone surrogate)") from None


def checked(value: str, key: str) -> str:
    """The value, once it is known to be storable (PostgreSQL refuses lone surrogates)."""
    if not value.isascii():
        encoded(value, key)
    return value


def clip(value: str | None, limit: int = 256) -> str | None:
    return value[:limit] if value else None


def within_limit(text: str, max_bytes: int) -> tuple[str, bool]:
    """The text cut to `max_bytes` (on a character boundary), NUL bytes dropped, and whether
    it was cut; Invalid when it holds a lone surrogate."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    data = encoded(text, "text")
    if len(data) <= max_bytes:
        return text, False
    return data[:max_bytes].decode("utf-8", "ignore"), True
