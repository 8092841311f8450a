"""How far each mailbox has been read, kept in PostgreSQL: a restart fetches only what is new.

An IMAP UID means something only under the folder's UIDVALIDITY; when the server announces
another one (the folder was recreated or renumbered), every email is read again, and stored
once all the same (by Message-ID).
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlmodel import Session

from core.models import MailboxState

log = logging.getLogger("tracker.mail")

_REMEMBER = text(
    """
    INSERT INTO mailbox_states (mailbox, uid_validity, last_uid, updated_at)
    VALUES (:mailbox, :uid_validity, :last_uid, now())
    ON CONFLICT (mailbox) DO UPDATE SET
        last_uid = CASE WHEN mailbox_states.uid_validity = excluded.uid_validity
                        THEN greatest(mailbox_states.last_uid, excluded.last_uid)
                        ELSE excluded.last_uid END,
        uid_validity = excluded.uid_validity, updated_at = excluded.updated_at
    """
)


def read_up_to(session: Session, mailbox: str, uid_validity: int) -> int:
    """The highest UID stored from the mailbox under this UIDVALIDITY; 0 for none (or another)."""
    state = session.get(MailboxState, mailbox)
    if state is None:
        return 0
    if state.uid_validity != uid_validity:
        log.warning(
            "mailbox %s: UIDVALIDITY %d is not the %d read before: the server renumbered it, "
            "so every email is read again (each stored once, by Message-ID)",
            mailbox, uid_validity, state.uid_validity,
        )  # fmt: skip
        return 0
    return state.last_uid


def remember(session: Session, mailbox: str, uid_validity: int, last_uid: int) -> None:
    """Record that every email up to `last_uid` is stored (never moving back under one UIDVALIDITY)."""
    params = {"mailbox": mailbox, "uid_validity": uid_validity, "last_uid": last_uid}
    session.execute(_REMEMBER, params)
