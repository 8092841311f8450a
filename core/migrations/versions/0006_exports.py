"""export targets; task_exports get a marker, attempts, a lease and a retry time

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 14:30:00

- export_targets: Redmine, GitHub, Jira and webhook targets, their secrets encrypted.
- task_exports: one row per task and target, written before the call (exactly once).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "export_targets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("url", sa.String(1024), nullable=False),
        sa.Column("project", sa.String(256), nullable=True),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("hook_secret", sa.Text(), nullable=True),
        sa.Column("triggers", postgresql.JSONB(), nullable=True),
        sa.Column("chats", postgresql.JSONB(), nullable=True),
        sa.Column("options", postgresql.JSONB(), nullable=True),
        sa.Column("polled_at", _TS, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.add_column("task_exports", sa.Column("marker", sa.String(64), nullable=False, server_default=""))
    op.alter_column("task_exports", "marker", server_default=None)
    op.add_column("task_exports", sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("task_exports", sa.Column("next_attempt_at", _TS, nullable=True))
    op.add_column("task_exports", sa.Column("leased_until", _TS, nullable=True))
    op.add_column("task_exports", sa.Column("synced_version", sa.Integer(), nullable=False, server_default="0"))
    op.create_unique_constraint("uq_task_exports_task_target", "task_exports", ["task_id", "target"])
    op.create_index(
        "ix_task_exports_due", "task_exports", ["next_attempt_at"], postgresql_where=sa.text("status = 'pending'")
    )
    op.create_index("ix_task_exports_external", "task_exports", ["target", "external_id"])


def downgrade() -> None:
    op.drop_index("ix_task_exports_external", table_name="task_exports")
    op.drop_index("ix_task_exports_due", table_name="task_exports")
    op.drop_constraint("uq_task_exports_task_target", "task_exports")
    for column in ("synced_version", "leased_until", "next_attempt_at", "attempts", "marker"):
        op.drop_column("task_exports", column)
    op.drop_table("export_targets")
