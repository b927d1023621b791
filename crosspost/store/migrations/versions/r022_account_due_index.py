"""Index an account's rows by state and due time, in place of the account alone.

An account's worker looks for the account's oldest due row after each post, and every
claim asks whether another row of the account is being published. With only
``ix_publication_account`` and ``ix_publication_due`` (state, due time), SQLite walked
either every row the account ever had or every due row of every account for each.
``ix_publication_account_due`` (account, state, due time) answers both from the rows
asked for; it also serves every read by account alone, so the old index goes.

Revision ID: r022
Revises: r020
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "r022"
down_revision = "r020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_publication_account_due", "publication", ["account", "status", "due_at"])
    op.drop_index("ix_publication_account", table_name="publication")


def downgrade() -> None:
    op.create_index("ix_publication_account", "publication", ["account"])
    op.drop_index("ix_publication_account_due", table_name="publication")
