"""One raw email -> the message to store: who wrote it, where it sits in its thread, and
what it says that is new (the text part, or the HTML one as text; quotes and signature off;
attachments named). Headers may be RFC 2047-encoded and bodies in any charset Python knows
(KOI8-R, KOI8-U, windows-1251 among them); a part in an unknown one is read as Latin-1
rather than lost.

The standard library's compat32 parser with explicit header decoding: its `policy.default`
parses every structured header it is asked for, four fifths of the time an email took.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from inscriptis import get_text

from core.mail import SOURCE
from core.mail.replies import new_text
from core.schemas import MessageCreate

_IDS = re.compile(r"<([^<>\s]+)>")
_SUBJECT_PREFIX = re.compile(
    r"^\s*((re|fwd?|aw|wg|tr|sv|отв|ответ|пересл|відп|вих)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE
)


class MalformedMail(ValueError):
    """Bytes that are not a storable email; the reason names what is missing or broken."""


def parse_mail(
    raw: bytes, chat_id: str, chat_title: str | None, received: datetime | None = None
) -> MessageCreate:
    """The message to store for one email of the mailbox `chat_id`; MalformedMail when it is none."""
    mail = message_from_bytes(raw)
    address, name = _sender(mail)
    own_id = _first_id(mail.get("Message-ID", "")) or f"sha256:{hashlib.sha256(raw).hexdigest()}"
    references = _IDS.findall(mail.get("References", ""))
    parent = _first_id(mail.get("In-Reply-To", "")) or (references[-1] if references else None)
    subject = decoded(mail.get("Subject", "")).strip()
    attachments = [f"[attachment] {name}" for name in _attachment_names(mail)]
    body = "\n".join(filter(None, [new_text(_body_text(mail)), *attachments]))
    text = body if parent else "\n\n".join(filter(None, [subject, body]))
    return MessageCreate(
        source=SOURCE,
        chat_id=chat_id,
        chat_title=chat_title,
        external_id=own_id[:128],
        text=text.replace("\x00", ""),
        author_id=address[:128],
        author=(name or address)[:256],
        sent_at=_sent_at(mail) or received,
        reply_to_external_id=parent[:128] if parent else None,
        thread_id=(references[0] if references else parent or own_id)[:128],
        thread_title=_SUBJECT_PREFIX.sub("", subject)[:256] or None,
        media_kind="attachment" if attachments else None,
        classify=bool(text.strip()),
    )


def decoded(value: object) -> str:
    """A header's text with its RFC 2047 encoded words decoded; an undecodable one as it stands."""
    raw = str(value or "")
    if "=?" not in raw:
        return " ".join(raw.split())
    try:
        return str(make_header(decode_header(raw)))
    except (LookupError, ValueError, UnicodeDecodeError):
        return raw


def _sender(mail: Message) -> tuple[str, str]:
    """The sender's address (lower case) and display name; MalformedMail without one."""
    found = next((pair for pair in getaddresses(mail.get_all("From", [])) if "@" in pair[1]), None)
    if found is None:
        raise MalformedMail("no sender: the From header is missing or holds no address")
    return found[1].lower(), decoded(found[0])


def _first_id(value: object) -> str | None:
    text = str(value or "")
    ids = _IDS.findall(text)
    return ids[0] if ids else (text.strip() or None)


def _sent_at(mail: Message) -> datetime | None:
    try:
        when = parsedate_to_datetime(str(mail.get("Date", "")))
    except (TypeError, ValueError, IndexError):
        return None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return when if 1900 <= when.year <= 2999 else None


def _body_text(mail: Message) -> str:
    """The first plain-text part, else the first HTML one as text, else nothing."""
    bodies = [part for part in _leaves(mail) if not _is_attachment(part)]
    for subtype in ("plain", "html"):
        part = next((p for p in bodies if p.get_content_type() == f"text/{subtype}"), None)
        if part is not None:
            content = _content(part)
            return get_text(content) if subtype == "html" else content
    return ""


def _leaves(mail: Message) -> Iterator[Message]:
    return (part for part in mail.walk() if not part.is_multipart())


def _is_attachment(part: Message) -> bool:
    disposition = str(part.get("Content-Disposition", "")).lower()
    return disposition.startswith("attachment") or (
        part.get_content_maintype() != "text" and part.get_filename() is not None
    )


def _content(part: Message) -> str:
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    try:
        return data.decode(part.get_content_charset() or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return data.decode("latin-1")


def _attachment_names(mail: Message) -> list[str]:
    names = (part.get_filename() for part in _leaves(mail) if _is_attachment(part))
    return [decoded(name) for name in names if name]
