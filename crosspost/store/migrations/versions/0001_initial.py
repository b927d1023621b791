"""Initial tables: publications, metric and account snapshots, entry state, heartbeats.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "publication",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("entry", sa.String(), nullable=False),
        sa.Column("occurrence", sa.String(), nullable=False),
        sa.Column("account", sa.String(), nullable=False),
        sa.Column("content_id", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("due_at", _WHEN, nullable=False),
        sa.Column("expires_at", _WHEN, nullable=False),
        sa.Column("next_attempt_at", _WHEN, nullable=True),
        sa.Column("claimed_until", _WHEN, nullable=True),
        sa.Column("claimed_by", sa.String(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("remote_id", sa.String(), nullable=True),
        sa.Column("url", sa.String(), nullable=True),
        sa.Column("thread_ids", sa.JSON(), nullable=True),
        sa.Column("published_at", _WHEN, nullable=True),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("text_hash", sa.String(), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.UniqueConstraint("entry", "occurrence", "account", name="uq_publication_key"),
    )
    op.create_index("ix_publication_entry", "publication", ["entry"])
    op.create_index("ix_publication_account", "publication", ["account"])
    op.create_index("ix_publication_due", "publication", ["status", "due_at"])
    op.create_table(
        "metric_snapshot",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("publication_id", sa.Integer(), sa.ForeignKey("publication.id"), nullable=False),
        sa.Column("collected_at", _WHEN, nullable=False),
        *(
            sa.Column(name, sa.Integer(), nullable=True)
            for name in ("likes", "reposts", "replies", "quotes", "views", "bookmarks")
        ),
        sa.Column("raw", sa.JSON(), nullable=True),
    )
    op.create_index("ix_metric_snapshot_publication_id", "metric_snapshot", ["publication_id"])
    op.create_table(
        "account_snapshot",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account", sa.String(), nullable=False),
        sa.Column("collected_at", _WHEN, nullable=False),
        *(
            sa.Column(name, sa.Integer(), nullable=True)
            for name in ("followers", "following", "posts", "members")
        ),
        sa.Column("raw", sa.JSON(), nullable=True),
    )
    op.create_index("ix_account_snapshot_account", "account_snapshot", ["account"])
    op.create_table(
        "entry_state",
        sa.Column("entry", sa.String(), primary_key=True),
        sa.Column("first_seen_at", _WHEN, nullable=False),
        sa.Column("planned_until", _WHEN, nullable=False),
    )
    op.create_table(
        "daemon_heartbeat",
        sa.Column("worker", sa.String(), primary_key=True),
        sa.Column("alive_at", _WHEN, nullable=False),
        sa.Column("started_at", _WHEN, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "daemon_heartbeat",
        "entry_state",
        "account_snapshot",
        "metric_snapshot",
        "publication",
    ):
        op.drop_table(table)
