"""The support mailbox over IMAP (imapclient): its address, its messages by UID, and waiting
for new ones (IDLE where the server has it, else a look every poll interval)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote, urlsplit

from imapclient import IMAPClient

from core.config import Settings

FETCH_BATCH = 500
"""Messages one FETCH asks for: few round trips, bounded memory."""
_PORTS = {"imap": 143, "imaps": 993}


@dataclass(frozen=True)
class MailboxAddress:
    """Where the mailbox is: imaps://host[:port]/FOLDER (imap:// without TLS; folder INBOX by default)."""

    host: str
    port: int
    tls: bool
    folder: str

    @classmethod
    def parse(cls, url: str) -> MailboxAddress:
        parts = urlsplit(url)
        if parts.scheme not in _PORTS or not parts.hostname:
            raise ValueError(f"TRACKER_EMAIL_IMAP_URL must look like imaps://host[:port]/INBOX, not {url!r}")
        folder = unquote(parts.path.strip("/")) or "INBOX"
        return cls(parts.hostname, parts.port or _PORTS[parts.scheme], parts.scheme == "imaps", folder)

    def chat_id(self) -> str:
        """The mailbox as a chat: every email of it is a message of this chat."""
        return f"{self.host}/{self.folder}"[:128]


@dataclass
class Fetched:
    uid: int
    raw: bytes
    received: datetime | None


class Mailbox:
    """One logged-in IMAP connection with the folder selected read-only (nothing is marked read)."""

    def __init__(self, settings: Settings) -> None:
        self.address = MailboxAddress.parse(settings.email_imap_url or "")
        self.user = settings.email_imap_user or ""
        self.title = f"{self.user} · {self.address.folder}" if self.user else self.address.chat_id()
        self.key = self.address.chat_id()
        """The mailbox as a chat id, and the key of how far it has been read."""
        self.client = IMAPClient(self.address.host, port=self.address.port, ssl=self.address.tls, timeout=60)
        self.client.normalise_times = False  # INTERNALDATE with its zone, not as local naive time
        password = settings.email_imap_password
        self.client.login(self.user, password.get_secret_value() if password else "")
        selected = self.client.select_folder(self.address.folder, readonly=True)
        self.uid_validity = int(selected.get(b"UIDVALIDITY", 0))
        """The folder's UIDVALIDITY: its UIDs mean something only under this number."""

    def uids_after(self, uid: int = 0) -> list[int]:
        """The messages' UIDs above `uid`, in order (all of them for 0)."""
        found = self.client.search(["UID", f"{uid + 1}:*"] if uid else ["ALL"])
        return sorted(u for u in found if u > uid)

    def fetch(self, uids: list[int]) -> Iterator[Fetched]:
        """The messages' raw bytes and arrival times, FETCH_BATCH at a time."""
        for start in range(0, len(uids), FETCH_BATCH):
            yield from self._fetch(uids[start : start + FETCH_BATCH])

    def fetch_ahead(self, uids: list[int]) -> Iterator[Fetched]:
        """As `fetch`, with the next FETCH running in a thread while the caller reads this one
        (the server's and the network's time overlap the parsing)."""
        chunks = iter([uids[start : start + FETCH_BATCH] for start in range(0, len(uids), FETCH_BATCH)])
        with ThreadPoolExecutor(1, thread_name_prefix="imap-fetch") as pool:
            ahead = pool.submit(self._fetch, next(chunks, []))
            while fetched := ahead.result():
                ahead = pool.submit(self._fetch, next(chunks, []))
                yield from fetched

    def _fetch(self, uids: list[int]) -> list[Fetched]:
        if not uids:
            return []
        answer = self.client.fetch(uids, [b"BODY.PEEK[]", b"INTERNALDATE"])
        found = ((uid, answer.get(uid) or {}) for uid in uids)
        return [Fetched(uid, d[b"BODY[]"], d.get(b"INTERNALDATE")) for uid, d in found if b"BODY[]" in d]

    def wait(self, seconds: float) -> None:
        """Return when the server says something changed, or after `seconds`."""
        if not self.client.has_capability("IDLE"):
            time.sleep(seconds)
            self.client.noop()
            return
        self.client.idle()
        try:
            self.client.idle_check(timeout=seconds)
        finally:
            self.client.idle_done()

    def close(self) -> None:
        try:
            self.client.logout()
        except Exception:  # the server may be gone already; the socket closes either way
            self.client.shutdown()
