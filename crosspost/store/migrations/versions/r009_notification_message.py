"""Notifications are publications: the message they carry is kept in their row.

A notification is written down as a publication of its own entry
(``notify:<key>``) for each notify account, and sent by the publisher like any
post (claimed, leased, paced, retried). ``publication.message`` holds its text.

Revision ID: r009
Revises: r002
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r009"
down_revision = "r006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("publication") as batch:
        batch.add_column(sa.Column("message", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("publication") as batch:
        batch.drop_column("message")
