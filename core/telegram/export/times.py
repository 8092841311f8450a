"""When a message was sent and edited, from every vintage of the export.

Since mid-2022 Telegram Desktop writes `date_unixtime` (and `edited_unixtime`) next to the
ISO `date`; older exports have only the ISO date, written in the exporting computer's local
time without an offset, so it is read in a zone the user names (default: this machine's).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.channels.fields import Invalid

_LATEST = int(datetime(3000, 1, 1, tzinfo=UTC).timestamp())
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UNIX_TYPES = (str, int)
"""A tuple, built once (`str | int` in the call builds a union each message)."""


def local_zone() -> tzinfo:
    """This machine's time zone, with its daylight-saving rules (TZ, else /etc/localtime)."""
    name = os.environ.get("TZ", "").lstrip(":")
    if not name:
        target = str(Path("/etc/localtime").resolve())
        name = target.partition("zoneinfo/")[2]
    try:
        return ZoneInfo(name) if name else _fixed_local()
    except (ZoneInfoNotFoundError, ValueError):
        return _fixed_local()


def _fixed_local() -> tzinfo:
    return datetime.now().astimezone().tzinfo or UTC


def zone_named(name: str) -> tzinfo:
    """The IANA zone called `name` (Europe/Kyiv, UTC…); ValueError says what went wrong."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}: use an IANA name such as Europe/Kyiv or UTC") from None


def zone_name(zone: tzinfo) -> str:
    return getattr(zone, "key", None) or str(zone)


@dataclass
class Clock:
    """Reads a message's times; `local` counts the times read in `zone` (no unix time given)."""

    zone: tzinfo
    local: int = 0

    def sent_at(self, raw: dict[str, Any]) -> datetime | None:
        """`date_unixtime`, else the ISO `date`; years 1900-2999."""
        return self._moment(raw, "date_unixtime", "date")

    def edited_at(self, raw: dict[str, Any]) -> datetime | None:
        """`edited_unixtime`, else `edited`; before mid-2020 `edited` was written for every
        message, at the epoch for the never edited ones."""
        if "edited" not in raw and "edited_unixtime" not in raw:
            return None
        edited = self._moment(raw, "edited_unixtime", "edited")
        if edited is not None and abs(edited - _EPOCH) <= timedelta(days=1):
            return None
        return edited

    def _moment(self, raw: dict[str, Any], unix_key: str, iso_key: str) -> datetime | None:
        unix = raw.get(unix_key)
        if isinstance(unix, _UNIX_TYPES) and str(unix).isdigit():
            seconds = int(unix)
            if seconds < _LATEST:
                return datetime.fromtimestamp(seconds, UTC)
            raise Invalid(f"'{unix_key}' is out of range: {unix!r:.40}")
        iso = raw.get(iso_key)
        return None if iso is None else self._iso(iso, iso_key)

    def _iso(self, value: object, key: str) -> datetime:
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            raise Invalid(f"'{key}' must be an ISO date, not {value!r:.40}") from None
        if not 1900 <= parsed.year <= 2999:
            raise Invalid(f"'{key}' must be between the years 1900 and 2999, not {value!r:.40}")
        if parsed.tzinfo:
            return parsed
        self.local += 1
        return parsed.replace(tzinfo=self.zone)
