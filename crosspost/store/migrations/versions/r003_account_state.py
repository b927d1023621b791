"""Account state that must outlive a process, and who holds a lease.

- ``account_hold``: an account whose credentials failed stays held across runs
  (cron) until its settings change or a person lifts the hold.
- ``account_limits``: the limits each account's server last reported, so that
  ``check`` and ``plan`` count as publishing does.
- ``publication.claimed_host/claimed_pid/claimed_process_start``: the process that
  holds a lease, so a restart on the same host can tell that it is gone.
- ``publication.source``: what a one-off publication was made from, so it can be
  sent again after the process that recorded it has ended.

Revision ID: r003
Revises: r002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r003"
down_revision = "r002"
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "account_hold",
        sa.Column("account", sa.String(), primary_key=True),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("settings_hash", sa.String(), nullable=False),
        sa.Column("since", _WHEN, nullable=False),
    )
    op.create_table(
        "account_limits",
        sa.Column("account", sa.String(), primary_key=True),
        sa.Column("settings_hash", sa.String(), nullable=False),
        sa.Column("limits", sa.JSON(), nullable=False),
        sa.Column("reported_at", _WHEN, nullable=False),
    )
    with op.batch_alter_table("publication") as batch:
        batch.add_column(sa.Column("claimed_host", sa.String(), nullable=True))
        batch.add_column(sa.Column("claimed_pid", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("claimed_process_start", sa.Float(), nullable=True))
        batch.add_column(sa.Column("source", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("publication") as batch:
        for name in ("source", "claimed_process_start", "claimed_pid", "claimed_host"):
            batch.drop_column(name)
    op.drop_table("account_limits")
    op.drop_table("account_hold")
