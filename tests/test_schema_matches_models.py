"""The migrations and the models describe one schema: a freshly migrated database has
exactly the tables, columns, types and indexes the SQLModel tables declare."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import crosspost.store.models  # noqa: F401  (registers every table)
from crosspost.store import Store
from tests.test_store import pg_url  # noqa: F401  (the PostgreSQL fixture)


def test_a_migrated_database_is_what_the_models_declare(each_store: Store) -> None:
    with each_store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []
    assert len(SQLModel.metadata.tables) >= 21
