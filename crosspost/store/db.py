"""Engines: SQLite in WAL mode with ``BEGIN IMMEDIATE``, or PostgreSQL; migrations on start.

Alembic (with every dialect it supports, mako and pygments) is imported only when
the database is behind the newest migration: a plain query of ``alembic_version``
tells, so a daemon or a command on an up-to-date database never loads it.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

__all__ = ["insert_new", "is_sqlite", "make_engine", "migrate", "normalise_url"]

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def normalise_url(url: str) -> str:
    """``postgresql://`` → ``postgresql+psycopg://`` (psycopg 3 is the driver we ship)."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def is_sqlite(engine: Engine) -> bool:
    """Whether the engine talks to SQLite."""
    return engine.dialect.name == "sqlite"


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get WAL and immediate write transactions."""
    url = normalise_url(url)
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event decide how transactions start (see below).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "busy_timeout=30000",
        "foreign_keys=ON",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # A deferred BEGIN that later writes cannot wait for the lock and fails with
    # "database is locked"; taking the write lock up front makes claims queue up.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def insert_new(session: Any, table: Table, values: list[dict[str, Any]], key: list[str]) -> int:
    """Insert the rows whose ``key`` is not taken yet; return how many were new.

    Counted with ``RETURNING`` because ``rowcount`` of ``ON CONFLICT DO NOTHING``
    is -1 on psycopg 3.
    """
    if not values:
        return 0
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(table)
        .values(values)
        .on_conflict_do_nothing(index_elements=key)
        .returning(*[table.c[name] for name in key])
    )
    return len(session.execute(statement).fetchall())


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration."""
    if _applied(engine) == migration_heads():
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")


_REVISION = re.compile(r"^(down_revision|revision)\b[^=]*=\s*(.+)$", re.MULTILINE)


@cache
def migration_heads() -> frozenset[str]:
    """The newest revisions, read from the migration files as Alembic would chain them."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (_MIGRATIONS / "versions").glob("*.py"):
        for name, value in _REVISION.findall(script.read_text(encoding="utf-8")):
            found = set(re.findall(r"[\"']([^\"']+)[\"']", value))
            (revisions if name == "revision" else parents).update(found)
    return frozenset(revisions - parents)


def _applied(engine: Engine) -> frozenset[str]:
    """The revisions the database is at; empty when it has none (or no schema yet)."""
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:
        return frozenset()
    return frozenset(str(row[0]) for row in rows)
