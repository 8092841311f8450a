"""message indexes for bulk imports: full-text search, partial reply indexes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 14:00:00

- Message text search becomes PostgreSQL full-text search (GIN over the 'simple' tsvector:
  words and word prefixes, in any language) instead of a trigram index, which cost every
  stored message about fifty index entries.
- The reply-key index keeps only replies still waiting for their parent (the rows the
  linking looks for), and the reply_to_id index only replies: most messages are neither.
- ix_messages_sent_at goes: no query uses it (chats filter on ix_messages_chat_sent, the
  analytics on coalesce(sent_at, created_at)), and every stored message paid for it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT_SEARCH = sa.text("to_tsvector('simple'::regconfig, text)")


def upgrade() -> None:
    op.drop_index("ix_messages_text_trgm", table_name="messages")
    op.create_index("ix_messages_text_fts", "messages", [TEXT_SEARCH], postgresql_using="gin")
    op.drop_index("ix_messages_reply_key", table_name="messages")
    op.create_index(
        "ix_messages_reply_waiting",
        "messages",
        ["source", "chat_id", "reply_to_external_id"],
        postgresql_where=sa.text("reply_to_id IS NULL AND reply_to_external_id IS NOT NULL"),
    )
    op.drop_index("ix_messages_reply_to_id", table_name="messages")
    op.create_index(
        "ix_messages_reply_to_id",
        "messages",
        ["reply_to_id"],
        postgresql_where=sa.text("reply_to_id IS NOT NULL"),
    )
    op.drop_index("ix_messages_sent_at", table_name="messages")


def downgrade() -> None:
    op.create_index("ix_messages_sent_at", "messages", ["sent_at"])
    op.drop_index("ix_messages_reply_to_id", table_name="messages")
    op.create_index("ix_messages_reply_to_id", "messages", ["reply_to_id"])
    op.drop_index("ix_messages_reply_waiting", table_name="messages")
    op.create_index("ix_messages_reply_key", "messages", ["source", "chat_id", "reply_to_external_id"])
    op.drop_index("ix_messages_text_fts", table_name="messages")
    op.create_index(
        "ix_messages_text_trgm",
        "messages",
        ["text"],
        postgresql_using="gin",
        postgresql_ops={"text": "gin_trgm_ops"},
    )
