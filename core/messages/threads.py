"""Forum topics: a reply inside a topic belongs to its parent's topic, under its title."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

# Exports mark only a topic's direct messages (they reply to the topic's creation); deeper
# replies take the topic of the message they reply to. Driven by the given ids.
_FROM_PARENT = text(
    """
    UPDATE messages m SET thread_id = link.thread_id, thread_title = link.thread_title
    FROM unnest(CAST(:ids AS bigint[])) AS n(id)
    CROSS JOIN LATERAL (
        SELECT p.thread_id, p.thread_title FROM messages c JOIN messages p ON p.id = c.reply_to_id
        WHERE c.id = n.id AND c.thread_id IS NULL AND p.thread_id IS NOT NULL
        LIMIT 1) AS link
    WHERE m.id = n.id
    """
)
# The Bot API gives every topic message its thread id, but the title only on some.
_TITLE = text(
    """
    UPDATE messages m SET thread_title = (
        SELECT t.thread_title FROM messages t
        WHERE t.source = m.source AND t.chat_id = m.chat_id AND t.thread_id = m.thread_id
          AND t.thread_title IS NOT NULL
        LIMIT 1)
    WHERE m.id = ANY(CAST(:ids AS bigint[])) AND m.thread_id IS NOT NULL AND m.thread_title IS NULL
    """
)


def inherit_threads(session: Session, ids: list[int]) -> None:
    """Give these messages the topic (thread id and title) of their topic or parent."""
    if not ids:
        return
    while session.execute(_FROM_PARENT, {"ids": ids}).rowcount:  # type: ignore[attr-defined]
        pass  # a chain of replies stored together takes one pass per level
    session.execute(_TITLE, {"ids": ids})
