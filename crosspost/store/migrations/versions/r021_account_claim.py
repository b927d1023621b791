"""Who works on an account's collection now, and until when the platform asked for quiet.

Several daemons on one PostgreSQL database claim an account's work (``kind``:
``collect``, ``publish``; ``feed`` for fetching a feed, by its id) with a lease, as
publications are claimed, so two of them never collect the same step, read the same
inbox or fetch the same feed at once; a rate-limit pause is written here so that
every daemon obeys it, not only the one that was told.

Revision ID: r021
Revises: r011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r021"
down_revision = "r011"
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "account_claim",
        sa.Column("account", sa.String(), primary_key=True),
        sa.Column("kind", sa.String(), primary_key=True),
        sa.Column("claimed_by", sa.String(), nullable=True),
        sa.Column("claimed_until", _WHEN, nullable=True),
        sa.Column("paused_until", _WHEN, nullable=True),
        sa.Column("paused_reason", sa.String(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("account_claim")
