"""Feeds in: what each subscription fetched last, and every entry it has seen.

``feed_state`` keeps a feed's HTTP validators (ETag, Last-Modified), when it was
first fetched (``since: subscribed``) and how the last fetch went. ``feed_entry``
is the seen set: an entry whose key is there is never posted again, whatever
happens to the feed or the daemon.

Revision ID: r019
Revises: r010
Create Date: 2026-12-14
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r019"
down_revision = "r010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feed_state",
        sa.Column("feed", sa.String(), primary_key=True),
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False, server_default=""),
        sa.Column("subscribed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("etag", sa.String(), nullable=True),
        sa.Column("last_modified", sa.String(), nullable=True),
        sa.Column("last_fetch_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_ok_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_fetch_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("last_new", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "feed_entry",
        sa.Column("feed", sa.String(), primary_key=True),
        sa.Column("key", sa.String(), primary_key=True),
        sa.Column("guid", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False, server_default=""),
        sa.Column("summary", sa.String(), nullable=False, server_default=""),
        sa.Column("link", sa.String(), nullable=True),
        sa.Column("image", sa.String(), nullable=True),
        sa.Column("author", sa.String(), nullable=False, server_default=""),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("feed_entry")
    op.drop_table("feed_state")
