"""A file that is not readable JSON: where exactly it breaks, said so that a user can act.

The import reads 64 KiB at a time, so when the JSON breaks it only knows the block. The
file is then read again, the last blocks a byte at a time, which gives the byte where it
breaks and where the message around it starts. That second pass runs only on this path
(ijson re-reads a token cut into pieces from its start, which stays cheap because Telegram
caps a message's text at 4,096 characters).
"""

from __future__ import annotations

import os
from typing import IO

import ijson

_SLOW = 2 * 65536
"""How many bytes before the failing block's end are read a byte at a time."""


class ExportError(ValueError):
    """The file is not a readable export; the message names where it went wrong."""


class _SlowTail:
    """A file read in blocks up to `slow_from`, then a byte at a time."""

    def __init__(self, raw: IO[bytes], slow_from: int) -> None:
        self.raw = raw
        self.slow_from = slow_from
        self.position = 0

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson's probe of the file's type
            return b""
        if self.position >= self.slow_from:
            size = 1
        elif size < 0 or self.position + size > self.slow_from:
            size = self.slow_from - self.position
        data = self.raw.read(size)
        self.position += len(data)
        return data


def locate(raw: IO[bytes], near: int) -> tuple[int, int | None]:
    """(the byte where the JSON breaks, the byte where the message around it starts, if known),
    counted from 1."""
    raw.seek(0)
    reader = _SlowTail(raw, max(0, near - _SLOW))
    start = None
    try:
        for prefix, event, _ in ijson.parse(reader, use_float=True):
            if event == "start_map" and prefix.endswith("messages.item"):
                start = reader.position if reader.position > reader.slow_from else None
    except (ijson.JSONError, UnicodeDecodeError):
        pass
    return reader.position, start


def broken(raw: IO[bytes], near: int, where: str, error: Exception) -> ExportError:
    """The error for a file that stops being readable JSON near byte `near`; `where` names
    what was being read ("the message after message #3 of chat 'T'")."""
    at, start = locate(raw, near)
    size = raw.seek(0, os.SEEK_END)
    reason = error.reason if isinstance(error, UnicodeDecodeError) else str(error).strip().splitlines()[0]
    starts = f" (it starts at byte {start:,})" if start is not None else ""
    if at >= size:
        return ExportError(
            f"the file ends at byte {at:,}, in the middle of {where}{starts}: "
            "it was cut short (an export or a copy that did not finish)"
        )
    kind = "the text is not valid UTF-8" if isinstance(error, UnicodeDecodeError) else "the JSON is broken"
    return ExportError(f"{kind} at byte {at:,}, in {where}{starts}: {reason}")
