"""Approvals: content a person approved with ``crosspost approve``, by its hash.

Entries with ``approval: required`` publish only content that is approved, in its
file (``approved_by:``) or here. The hash is of the content as it read when it was
approved, so an edit afterwards needs a new approval. The ``awaiting-approval``
state of a publication is a new value of the ``status`` column (a plain string).

Revision ID: r015
Revises: r019 (was r008; re-chained after main brought r012, r010 and r019)
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r015"
down_revision = "r019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "approval",
        sa.Column("content_id", sa.String(), nullable=False),
        sa.Column("content_hash", sa.String(), nullable=False),
        sa.Column("approved_by", sa.String(), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("content_id", "content_hash"),
    )


def downgrade() -> None:
    op.drop_table("approval")
