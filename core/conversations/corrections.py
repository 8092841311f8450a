"""The grouping people corrected, as training labels for the conversation scorer.

A person who merges two tasks or moves a message to another task (or to a task of its own,
a split) says where messages belong. Each chat where someone did becomes a labelled chat for
`tracker train --conversations ... --corrected`: its messages around the corrections (the
placement window either side), each in the task that holds it now (a merged task counts as
the one it was merged into), small talk in none, actionable as the classifier read it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC
from typing import Any

from sqlalchemy import Row, bindparam, text
from sqlmodel import Session

from core.conversations.store import WINDOW
from core.conversations.training import Labelled
from core.models import ACTIONABLE_KINDS, LabelAction

GROUPING_ACTIONS = (LabelAction.merge, LabelAction.move)
"""The labels that say where messages belong."""

_AROUND_CORRECTIONS = text(
    """
    WITH corrected AS (
        SELECT m.source, m.chat_id, min(coalesce(m.sent_at, m.created_at)) - :window AS since,
               max(coalesce(m.sent_at, m.created_at)) + :window AS until
        FROM labels l JOIN messages m ON m.id = l.message_id
        WHERE l.action IN :actions
        GROUP BY m.source, m.chat_id
    )
    SELECT m.id, m.source, m.chat_id, coalesce(m.sent_at, m.created_at) AS sent_at, m.author_id,
           m.author, m.text, m.thread_id, m.reply_to_id, i.kind,
           (SELECT min(tm.task_id) FROM task_messages tm WHERE tm.message_id = m.id) AS task_id
    FROM corrected c
    JOIN messages m ON m.source = c.source AND m.chat_id = c.chat_id
     AND coalesce(m.sent_at, m.created_at) BETWEEN c.since AND c.until
    LEFT JOIN issues i ON i.message_id = m.id AND i.is_current
    WHERE m.deleted_at IS NULL
    ORDER BY sent_at, m.id
    """
).bindparams(bindparam("actions", expanding=True))

_MERGED = text(
    "SELECT id, merged_into_id FROM tasks WHERE id IN :ids AND merged_into_id IS NOT NULL"
).bindparams(bindparam("ids", expanding=True))


def corrected_chats(session: Session) -> list[Labelled]:
    """The messages of every chat people regrouped, labelled with where they belong now."""
    rows = session.execute(
        _AROUND_CORRECTIONS, {"window": WINDOW, "actions": [a.value for a in GROUPING_ACTIONS]}
    ).all()
    survivor = _survivors(session, {r.task_id for r in rows if r.task_id is not None})
    return [_labelled(r, survivor) for r in rows]


def _labelled(row: Row[Any], survivor: Mapping[int, int]) -> Labelled:
    task = survivor.get(row.task_id, row.task_id)
    return Labelled(
        id=f"db-{row.id}", chat_id=f"{row.source}:{row.chat_id}", sent_at=row.sent_at.astimezone(UTC),
        author_id=row.author_id, author=row.author, text=row.text, thread_id=row.thread_id,
        reply_to=f"db-{row.reply_to_id}" if row.reply_to_id else None,
        group=f"db-task-{task}" if task is not None else None,
        actionable=row.kind in ACTIONABLE_KINDS, kind=row.kind,
    )  # fmt: skip


def _survivors(session: Session, task_ids: Iterable[int]) -> dict[int, int]:
    """Each merged task -> the task at the end of its chain of merges."""
    into: dict[int, int] = {}
    asked = set(task_ids)
    while asked:
        found = {row.id: row.merged_into_id for row in session.execute(_MERGED, {"ids": sorted(asked)})}
        into |= found
        asked = set(found.values()) - into.keys()
    survivor = {}
    for task in into:
        end = task
        while end in into:
            end = into[end]
        survivor[task] = end
    return survivor
