"""A Slack workspace export (a zip: channels.json, users.json, one folder per channel holding
one JSON file per day) -> the rows to store, in each channel's order.

Folders are named after channels; channels.json (and groups.json, mpims.json for private
channels and group messages) gives each name its id, so imported messages meet the live
events' (same chat id, same ts). A day file that cannot be read is skipped and named in
the stats; the rest of the export is imported.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.channels.fields import Invalid, checked, clip, within_limit
from core.messages.bulk import BulkRow
from core.slack import SOURCE
from core.slack.messages import author_name, plain_text, reply_to, sent_at, shown_name, written_by_people

LISTED = 50
"""How many unreadable day files and messages the stats name (the count goes on)."""
_DAY = re.compile(r"^([^/]+)/(\d{4}-\d{2}-\d{2})\.json$")
_CHANNEL_LISTS = ("channels.json", "groups.json", "mpims.json")


class SlackExportError(ValueError):
    """The file is not a Slack export (not a zip, or no channel folders in it)."""


@dataclass
class SlackExportStats:
    channels: int = 0
    days: int = 0
    messages: int = 0
    skipped: int = 0
    """Bots', apps' and service messages (joins, topic changes…): not stored."""
    truncated: int = 0
    unreadable: int = 0
    unreadable_at: list[str] = field(default_factory=list)

    def unreadable_here(self, where: str, why: str) -> None:
        self.unreadable += 1
        if len(self.unreadable_at) < LISTED:
            self.unreadable_at.append(f"{where}: {why}")


@dataclass(frozen=True)
class Folder:
    """A channel's folder: its id (the live events' chat id) and its name."""

    chat_id: str
    title: str


def day_files(archive: zipfile.ZipFile) -> list[tuple[str, str]]:
    """(folder, file name) of every day file, by folder then day."""
    found = ((m.group(1), name) for name in archive.namelist() if (m := _DAY.match(name)))
    return sorted(found)


@dataclass
class SlackExportReader:
    """Reads an opened export; `stats` counts what was read, skipped and unreadable."""

    max_text_bytes: int
    classify: bool = True
    stats: SlackExportStats = field(default_factory=SlackExportStats)
    days_read: int = 0

    def read(self, archive: zipfile.ZipFile) -> Iterator[BulkRow]:
        days = day_files(archive)
        if not days:
            raise SlackExportError("no channel folders with day files (general/2024-01-31.json)")
        folders, names = _folders(archive), _user_names(archive)
        self.stats.channels = len({folder for folder, _ in days})
        for folder, name in days:
            chat = folders.get(folder, Folder(folder, folder))
            yield from self._day(chat, name, archive, names)
            self.days_read += 1

    def _day(
        self, chat: Folder, name: str, archive: zipfile.ZipFile, names: Mapping[str, str]
    ) -> Iterator[BulkRow]:
        self.stats.days += 1
        try:
            messages = json.loads(archive.read(name))
        except (ValueError, zipfile.BadZipFile) as exc:
            self.stats.unreadable_here(name, f"not JSON ({exc})")
            return
        if not isinstance(messages, list):
            self.stats.unreadable_here(name, "not a list of messages")
            return
        for index, raw in enumerate(messages):
            try:
                row = self._row(chat, raw, names)
            except (Invalid, TypeError, ValueError) as exc:
                self.stats.unreadable_here(f"{name} message {index}", str(exc))
                continue
            if row is not None:
                yield row

    def _row(self, chat: Folder, raw: Any, names: Mapping[str, str]) -> BulkRow | None:
        self.stats.messages += 1
        ts = raw.get("ts") if isinstance(raw, dict) else None
        if not isinstance(ts, str):
            raise Invalid("a message must be an object with a string 'ts'")
        if not written_by_people(raw):
            self.stats.skipped += 1
            return None
        text, cut = within_limit(plain_text(raw, names), self.max_text_bytes)
        self.stats.truncated += cut
        user, edited = raw.get("user"), raw.get("edited")
        return _bulk_row(
            chat.chat_id,
            checked(ts[:128], "ts"),  # external_id
            text,
            chat.title,
            checked(user[:128], "user") if isinstance(user, str) else None,  # author_id
            checked(author_name(raw, names) or "", "user_profile") or None,  # author
            sent_at(ts),
            reply_to(raw),
            "file" if raw.get("files") else None,  # media_kind
            sent_at(edited["ts"]) if isinstance(edited, dict) and edited.get("ts") else None,  # edited_at
            self.classify and bool(text.strip()),  # classify
        )


_ROW_ORDER = ("chat_id", "external_id", "text", "chat_title", "author_id", "author", "sent_at",
              "reply_to_external_id", "media_kind", "edited_at", "classify")  # fmt: skip
_CONSTANT = {"source": SOURCE, "thread_id": None, "thread_title": None, "forwarded_from": None}
_PLACES = [
    (_ROW_ORDER.index(name), None) if name in _ROW_ORDER else (-1, _CONSTANT[name])
    for name in BulkRow._fields
]


def _bulk_row(*values: object) -> BulkRow:
    """A row from values in _ROW_ORDER (the rest is the same for every Slack row), built
    positionally: building it by keyword cost a third of the reading time."""
    return tuple.__new__(BulkRow, [values[i] if i >= 0 else constant for i, constant in _PLACES])


def _listed(archive: zipfile.ZipFile, name: str) -> list[Any]:
    """A top-level list (channels.json, users.json…); missing or unreadable: empty."""
    try:
        value = json.loads(archive.read(name))
    except (KeyError, ValueError):
        return []
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _folders(archive: zipfile.ZipFile) -> dict[str, Folder]:
    """Folder name -> the channel's id and name; a direct message's folder is its id."""
    folders = {d["id"]: Folder(d["id"], d["id"]) for d in _listed(archive, "dms.json") if "id" in d}
    for listing in _CHANNEL_LISTS:
        for channel in _listed(archive, listing):
            if isinstance(channel.get("name"), str) and isinstance(channel.get("id"), str):
                title = clip(checked(channel["name"], "name"))
                folders[channel["name"]] = Folder(channel["id"], f"#{title}" if title else channel["id"])
    return folders


def _user_names(archive: zipfile.ZipFile) -> dict[str, str]:
    """User id -> the name Slack shows (real name, else display name, else handle)."""
    names = {}
    for user in _listed(archive, "users.json"):
        shown = shown_name(user)
        if isinstance(user.get("id"), str) and shown:
            names[user["id"]] = shown
    return names
