"""Remember which account's article an announcement is waiting for.

An announcement of an article (``kind: article``) links to the article's URL on a
long-form account of the same occurrence, so it waits until that publication is
recorded; the column lets the recording wake it at once (crosspost.rendering.articles).

Revision ID: r011
Revises: r015
Create Date: 2026-12-12
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r011"
down_revision = "r015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("publication") as batch:
        batch.add_column(sa.Column("waits_for", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("publication") as batch:
        batch.drop_column("waits_for")
