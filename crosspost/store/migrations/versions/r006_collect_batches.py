"""Record which step each metric snapshot covers, and each account's inbox backoff.

Aligned collection may take a post's snapshot shortly before its step falls due
(together with other posts of the account), so the step can no longer be
inferred from ``collected_at``; snapshots written before this keep ``step`` NULL
and are read as before. ``inbox_poll`` keeps when an account's inbox is read
next and the interval that grows after every empty read, so a restart does not
start polling every few minutes again.

Revision ID: r006
Revises: r002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r006"
down_revision = "r007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("metric_snapshot") as batch:
        batch.add_column(sa.Column("step", sa.Integer(), nullable=True))
    op.create_table(
        "inbox_poll",
        sa.Column("account", sa.String(), primary_key=True),
        sa.Column("every_seconds", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("inbox_poll")
    with op.batch_alter_table("metric_snapshot") as batch:
        batch.drop_column("step")
