"""Keep what a connector returned in ``Published.extra`` with the publication.

Platform references a later call needs (a Telegram album's message ids, a Bluesky
``cid``) used to be dropped when a result was recorded, so connectors kept them
in their state file: a second store, written from two threads.

Revision ID: r008
Revises: r002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r008"
down_revision = "r009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("publication") as batch:
        batch.add_column(sa.Column("extra", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("publication") as batch:
        batch.drop_column("extra")
