"""Counts a platform pushed, kept per post until the collector asks for them.

A connector whose platform reports reaction counts as events (Telegram's
``message_reaction_count`` updates) kept them in its state file, next to the
stream position and the member messages it had read: a second store, written
from two threads. The position now goes to ``collect_cursor``, the messages to
``interaction``, references to ``publication.extra``, and the counts here.

Revision ID: r010
Revises: r012
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r010"
down_revision = "r012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "metric_observation",
        sa.Column("account", sa.String(), primary_key=True),
        sa.Column("remote_id", sa.String(), primary_key=True),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("likes", sa.Integer(), nullable=True),
        sa.Column("reposts", sa.Integer(), nullable=True),
        sa.Column("replies", sa.Integer(), nullable=True),
        sa.Column("quotes", sa.Integer(), nullable=True),
        sa.Column("views", sa.Integer(), nullable=True),
        sa.Column("bookmarks", sa.Integer(), nullable=True),
        sa.Column("raw", sa.JSON(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("metric_observation")
