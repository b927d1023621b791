"""Community tables: interactions, followers and their joins/leaves, inbox cursors, conversions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "interaction",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account", sa.String(), nullable=False),
        sa.Column("platform", sa.String(), nullable=False),
        sa.Column("remote_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("author", sa.String(), nullable=False),
        sa.Column("author_id", sa.String(), nullable=True),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("url", sa.String(), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("in_reply_to", sa.String(), nullable=True),
        sa.Column("publication_id", sa.Integer(), sa.ForeignKey("publication.id"), nullable=True),
        sa.Column("collected_at", _WHEN, nullable=False),
        sa.Column("raw", sa.JSON(), nullable=True),
        sa.UniqueConstraint("account", "remote_id", name="uq_interaction_remote"),
    )
    op.create_index("ix_interaction_account", "interaction", ["account"])
    op.create_index("ix_interaction_publication_id", "interaction", ["publication_id"])
    op.create_table(
        "follower",
        sa.Column("account", sa.String(), primary_key=True),
        sa.Column("follower_id", sa.String(), primary_key=True),
        sa.Column("handle", sa.String(), nullable=False),
        sa.Column("first_seen_at", _WHEN, nullable=False),
    )
    op.create_table(
        "follower_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account", sa.String(), nullable=False),
        sa.Column("follower_id", sa.String(), nullable=False),
        sa.Column("handle", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("observed_at", _WHEN, nullable=False),
    )
    op.create_index("ix_follower_event_account", "follower_event", ["account"])
    op.create_table(
        "collect_cursor",
        sa.Column("account", sa.String(), primary_key=True),
        sa.Column("kind", sa.String(), primary_key=True),
        sa.Column("cursor", sa.String(), nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
    )
    op.create_table(
        "conversion",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign", sa.String(), nullable=False),
        sa.Column("content", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("day", sa.String(), nullable=False),
        sa.Column("clicks", sa.Integer(), nullable=True),
        sa.Column("conversions", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("imported_at", _WHEN, nullable=False),
        sa.Column("source_file", sa.String(), nullable=False),
        sa.UniqueConstraint("campaign", "content", "source", "day", name="uq_conversion_key"),
    )
    op.create_index("ix_conversion_campaign", "conversion", ["campaign"])


def downgrade() -> None:
    for table in ("conversion", "collect_cursor", "follower_event", "follower", "interaction"):
        op.drop_table(table)
