"""conversations.terms as they sound: each conversation's stems read again from its messages

The stems conversations are compared by are now spelled as they sound in Latin letters
(core.conversations.text.sounded: "клієнт", "клиент" and "client" are one stem), so the
summaries stored before would no longer meet the stems of new messages. Each conversation's
summary is folded again from its messages, in the order they were sent, as placement folds it.
Downgrading keeps the new summaries (they are only weighed less well by the older code).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 10:40:00
"""

from collections.abc import Iterator, Sequence
from itertools import groupby
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MESSAGES = sa.text(
    "SELECT conversation_id, text FROM messages WHERE conversation_id IS NOT NULL "
    "ORDER BY conversation_id, coalesce(sent_at, created_at), id"
)
_CONVERSATIONS = sa.table(
    "conversations", sa.column("id", sa.BigInteger), sa.column("terms", sa.JSON().with_variant(JSONB(), "postgresql"))
)
_BATCH = 500


def _summaries(rows: Iterator[Any]) -> Iterator[dict[str, Any]]:
    from core.conversations.text import merge, terms  # the stems as placement makes them now

    for conversation_id, messages in groupby(rows, key=lambda row: row.conversation_id):
        bag: dict[str, int] = {}
        for message in messages:
            bag = merge(bag, terms(message.text or ""))
        yield {"key": conversation_id, "terms": bag}


def upgrade() -> None:
    connection = op.get_bind()
    update = (
        _CONVERSATIONS.update()
        .where(_CONVERSATIONS.c.id == sa.bindparam("key"))
        .values(terms=sa.bindparam("terms"))
    )
    rows = connection.execute(_MESSAGES, execution_options={"stream_results": True, "yield_per": _BATCH})
    batch: list[dict[str, Any]] = []
    for summary in _summaries(iter(rows)):
        batch.append(summary)
        if len(batch) == _BATCH:
            connection.execute(update, batch)
            batch = []
    if batch:
        connection.execute(update, batch)


def downgrade() -> None:
    pass
