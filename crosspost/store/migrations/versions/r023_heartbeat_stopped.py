"""Record when a daemon stopped cleanly, so ``status`` and ``health`` stop calling it alive.

Without it a daemon stopped with Ctrl-C or SIGTERM read as alive until its last heartbeat
grew older than ``health --max-age`` (two minutes by default).

Revision ID: r023
Revises: r022
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r023"
down_revision = "r022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("daemon_heartbeat") as batch:
        batch.add_column(sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("daemon_heartbeat") as batch:
        batch.drop_column("stopped_at")
