"""LLM summaries of tasks: what each task was last summarized from, and one row per LLM call

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 15:30:00

- task_summaries: per task, how many conversation messages its LLM title and summary were
  written from (a task is summarized again once it has grown by settings.summary_regrow).
- summary_calls: one row per LLM call made for summaries (tasks in it, tokens, time, error),
  counted by `tracker eval --conversations` next to the classification calls.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "task_summaries",
        sa.Column(
            "task_id", sa.BigInteger(), sa.ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("summarized_at", _TS, nullable=False),
    )
    op.create_table(
        "summary_calls",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("tasks", sa.Integer(), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("summary_calls")
    op.drop_table("task_summaries")
