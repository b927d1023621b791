"""Record the steps of publications that go out in steps (a newsletter, per recipient).

A connector that sends one publication as many messages records each one as it
goes, so that a publication interrupted by a crash resumes where it stopped
instead of sending the first messages again.

Revision ID: r012
Revises: r008
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r012"
down_revision = "r008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "publication_step",
        sa.Column(
            "publication_id", sa.Integer(), sa.ForeignKey("publication.id"), primary_key=True
        ),
        sa.Column("name", sa.String(), primary_key=True),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("detail", sa.String(), nullable=False, server_default=""),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("publication_step")
