"""Remember each entry's definition as planned, and index the per-entry plan reads.

``entry_state.definition`` is the fingerprint of what decided an entry's rows when it
was last synced, so a daemon that starts (or reloads) syncs again only the entries
whose definition changed and merely extends the others. ``ix_publication_entry_status``
serves a sync's reads of the rows of a few entries; without it SQLite scans every
planned row through ``ix_publication_due`` for each.

Revision ID: r020
Revises: r021
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r020"
down_revision = "r021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("entry_state") as batch:
        batch.add_column(sa.Column("definition", sa.String(), nullable=True))
    op.create_index("ix_publication_entry_status", "publication", ["entry", "status", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_publication_entry_status", table_name="publication")
    with op.batch_alter_table("entry_state") as batch:
        batch.drop_column("definition")
