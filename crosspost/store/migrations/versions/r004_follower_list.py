"""Record which accounts' follower lists were read, so a first follower is a join.

Before this, an empty stored follower set was taken for "never listed", so the
first followers of an account with none (or with none left) were never counted
as joins. Accounts listed before are marked as listed: those with stored
followers, and those whose newest audience snapshot counted 0 followers (everyone
in their next list joined since).

Revision ID: r004
Revises: r002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r004"
down_revision = "r003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "follower_list",
        sa.Column("account", sa.String(), primary_key=True),
        sa.Column("first_listed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_listed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute(
        "INSERT INTO follower_list (account, first_listed_at, last_listed_at)"
        " SELECT account, MIN(first_seen_at), MAX(first_seen_at) FROM follower"
        " GROUP BY account"
    )
    op.execute(
        "INSERT INTO follower_list (account, first_listed_at, last_listed_at)"
        " SELECT s.account, MAX(s.collected_at), MAX(s.collected_at) FROM account_snapshot s"
        " JOIN (SELECT account, MAX(collected_at) AS newest FROM account_snapshot"
        " GROUP BY account) n ON n.account = s.account AND n.newest = s.collected_at"
        " WHERE s.followers = 0"
        " AND s.account NOT IN (SELECT account FROM follower_list)"
        " GROUP BY s.account"
    )


def downgrade() -> None:
    op.drop_table("follower_list")
