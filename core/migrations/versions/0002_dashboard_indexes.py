"""dashboard indexes: triage order, trigram text search, event probes, reverse links

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # pg_trgm is a trusted contrib extension (PostgreSQL 13+): the database owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index(
        "ix_tasks_triage",
        "tasks",
        ["status", "priority_rank", sa.text("created_at DESC"), sa.text("id DESC")],
        postgresql_where=sa.text("merged_into_id IS NULL"),
    )
    op.create_index("ix_tasks_assignee", "tasks", ["assignee"])
    op.create_index(
        "ix_tasks_title_trgm", "tasks", ["title"], postgresql_using="gin", postgresql_ops={"title": "gin_trgm_ops"}
    )
    op.create_index(
        "ix_messages_text_trgm", "messages", ["text"], postgresql_using="gin", postgresql_ops={"text": "gin_trgm_ops"}
    )
    op.create_index("ix_task_messages_message", "task_messages", ["message_id"])
    op.create_index("ix_labels_task", "labels", ["task_id"])
    op.create_index("ix_events_type_seq", "events", ["type", "seq"])


def downgrade() -> None:
    op.drop_index("ix_events_type_seq", table_name="events")
    op.drop_index("ix_labels_task", table_name="labels")
    op.drop_index("ix_task_messages_message", table_name="task_messages")
    op.drop_index("ix_messages_text_trgm", table_name="messages")
    op.drop_index("ix_tasks_title_trgm", table_name="tasks")
    op.drop_index("ix_tasks_assignee", table_name="tasks")
    op.drop_index("ix_tasks_triage", table_name="tasks")
    # the extension stays: other objects may use it
