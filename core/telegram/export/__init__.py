"""Telegram Desktop's JSON exports, every vintage since 2018, streamed into rows to store.

`reader` streams the file (one chat or a whole account), `rows` turns each message into a
row, `chats`/`ids` give chats and senders the Bot API's ids, `times` the dates, `content`
the text and the kind of message, `broken` says where an unreadable file breaks.
"""

from core.telegram.export.broken import ExportError
from core.telegram.export.reader import CountingReader, ExportReader
from core.telegram.export.rows import ExportStats
from core.telegram.export.times import local_zone, zone_name, zone_named

__all__ = [
    "CountingReader", "ExportError", "ExportReader", "ExportStats", "local_zone", "zone_name", "zone_named",
]  # fmt: skip
