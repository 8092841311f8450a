"""conversations, task history, reporters and resolution

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 06:00:00

- conversations: the messages of a chat about one thing; messages.conversation_id places each
  message in at most one.
- task_changes: every change of a task's field with its evidence (the message, or the person).
- tasks.reporters counts who reported the problem; tasks.resolution says why a done task is
  done (answered).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("chat_id", sa.String(128), nullable=False),
        sa.Column("thread_id", sa.String(128), nullable=True),
        sa.Column("task_id", sa.BigInteger(), sa.ForeignKey("tasks.id"), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_author_id", sa.String(128), nullable=True),
        sa.Column("message_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("authors", postgresql.JSONB(), nullable=True),
        sa.Column("terms", postgresql.JSONB(), nullable=True),
    )
    op.create_index("ix_conversations_chat_last", "conversations", ["source", "chat_id", "last_message_at"])
    op.create_index("ix_conversations_task_id", "conversations", ["task_id"])
    op.add_column(
        "messages",
        sa.Column("conversation_id", sa.BigInteger(), sa.ForeignKey("conversations.id"), nullable=True),
    )
    op.create_index(
        "ix_messages_conversation", "messages", ["conversation_id"], postgresql_where=sa.text("conversation_id IS NOT NULL")
    )
    op.add_column("tasks", sa.Column("resolution", sa.String(16), nullable=True))
    op.add_column("tasks", sa.Column("reporters", sa.Integer(), nullable=False, server_default="1"))
    op.create_table(
        "task_changes",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("task_id", sa.BigInteger(), sa.ForeignKey("tasks.id"), nullable=False),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("old", sa.String(256), nullable=True),
        sa.Column("new", sa.String(256), nullable=True),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("message_id", sa.BigInteger(), sa.ForeignKey("messages.id"), nullable=True),
        sa.Column("author", sa.String(256), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_task_changes_task_id", "task_changes", ["task_id"])


def downgrade() -> None:
    op.drop_table("task_changes")
    op.drop_column("tasks", "reporters")
    op.drop_column("tasks", "resolution")
    op.drop_index("ix_messages_conversation", table_name="messages")
    op.drop_column("messages", "conversation_id")
    op.drop_table("conversations")
