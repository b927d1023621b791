"""Engines: SQLite in WAL mode with ``BEGIN IMMEDIATE``, or PostgreSQL; migrations on start.

Alembic (with every dialect it supports, mako and pygments) is imported only when
the database is behind the newest migration: a plain query of ``alembic_version``
tells, so a daemon or a command on an up-to-date database never loads it.
"""

from __future__ import annotations

import select
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    Table,
    bindparam,
    cast,
    create_engine,
    event,
    func,
    text,
)
from sqlalchemy import select as select_of
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from crosspost.errors import CrosspostError
from crosspost.history import MIGRATIONS, migration_heads

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "HELD_AT_MOST",
    "MIGRATION_LOCK",
    "SERVER_POOL_OVERFLOW",
    "SERVER_POOL_SIZE",
    "closed_by_server",
    "dialect_module",
    "insert_new",
    "is_sqlite",
    "make_engine",
    "migrate",
    "normalise_url",
]

#: A database server's connections kept open by one process, and how many more it may
#: open for a while: the default 8 publishing workers each hold one through an account's
#: turn (store/handover.py), beside the daemon's own short transactions.
SERVER_POOL_SIZE = 10
SERVER_POOL_OVERFLOW = 20
#: At most this many are held through turns: the rest are left for short transactions,
#: which would otherwise wait for a turn to end (30 s at most, then fail).
HELD_AT_MOST = SERVER_POOL_SIZE + SERVER_POOL_OVERFLOW - 6
#: The PostgreSQL advisory lock key held while migrating (any fixed 64-bit number).
MIGRATION_LOCK = 0x63726F7373706F73  # "crosspos"


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
        return create_engine(
            url, pool_pre_ping=True, pool_size=SERVER_POOL_SIZE, max_overflow=SERVER_POOL_OVERFLOW
        )
    database = make_url(url).database
    in_file = bool(database) and database != ":memory:"
    if in_file:
        Path(str(database)).parent.mkdir(parents=True, exist_ok=True)
    # Each publishing worker holds a connection through an account's turn (handover.py):
    # the default pool of 5 (+10 overflow) made the 16th worker wait for a turn to end.
    # No bound on a file's pool: the workers are bounded, and a connection is a file
    # handle (an in-memory database has a pool of its own kind, one per thread).
    engine = create_engine(
        url,
        connect_args={"timeout": 30, "check_same_thread": False},
        **({"pool_size": 0} if in_file else {}),
    )
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
    # On the driver's connection: through SQLAlchemy's execution context it cost a
    # third of an empty transaction's CPU (the "begin" event still fires, as before).
    connection.connection.driver_connection.execute("BEGIN IMMEDIATE")


def insert_new(session: Any, table: Table, values: list[dict[str, Any]], key: list[str]) -> int:
    """Insert the rows whose ``key`` is not taken yet, in ``session`` (a session or a
    connection); return how many were new.

    Counted with ``RETURNING`` because ``rowcount`` of ``ON CONFLICT DO NOTHING``
    is -1 on psycopg 3. On SQLite the rows go as parameters of one statement
    (SQLAlchemy batches them into multi-row ``VALUES`` itself): a statement with the
    rows in it is compiled anew each time, which cost more than the insert. On
    PostgreSQL they go as one array per column (:func:`_from_arrays`).
    """
    if not values:
        return 0
    bind = session if isinstance(session, Connection) else session.get_bind()
    dialect = dialect_module(bind.dialect.name)
    arrays = _from_arrays(dialect, table, values) if bind.dialect.name == "postgresql" else None
    insert = dialect.insert(table) if arrays is None else dialect.insert(table).from_select(*arrays)
    statement = insert.on_conflict_do_nothing(index_elements=key).returning(
        *[table.c[name] for name in key]
    )
    if arrays is None:
        return len(session.execute(statement, values).fetchall())
    return len(session.execute(statement).fetchall())


def _from_arrays(
    dialect: Any, table: Table, values: list[dict[str, Any]]
) -> tuple[list[str], Select[Any]] | None:
    """``SELECT * FROM unnest(<one array per column>)``: the rows of ``values`` for
    ``INSERT … SELECT``, or None when the rows name different columns (``dialect``:
    PostgreSQL's dialect module, imported only when used).

    A multi-row ``VALUES`` of 1,000 rows has thousands of placeholders, which psycopg
    parses anew for each statement (it caches statements of up to 50 parameters):
    half of the CPU of writing a plan to PostgreSQL. An array per column is one
    parameter, dumped as a whole; a column with the same value in every row (a plan's
    status, attempts and times) is one value, not an array: psycopg dumps an array's
    items one by one in Python, a quarter of the time a plan took to write.
    """
    names = list(values[0])
    if any(row.keys() != values[0].keys() for row in values):
        return None
    columns = {name: [row[name] for row in values] for name in names}
    varying = [name for name in names if not _one_value(columns[name])] or names[:1]
    arrays = [
        bindparam(f"column_{index}", columns[name], type_=dialect.ARRAY(table.c[name].type))
        for index, name in enumerate(varying)
    ]
    rows = func.unnest(*arrays).table_valued(*varying).render_derived()

    def shared(index: int, name: str) -> Any:
        kind = table.c[name].type
        return cast(bindparam(f"same_{index}", columns[name][0], type_=kind), kind)

    chosen = [
        rows.c[name] if name in varying else shared(index, name) for index, name in enumerate(names)
    ]
    return names, select_of(*chosen)


def _one_value(column: list[Any]) -> bool:
    """Whether every row has the same plain value, of the same type (``1 == True``, and
    JSON objects that compare equal may hold either: those always go as arrays)."""
    first = column[0]
    return (
        isinstance(first, _PLAIN)
        and column.count(first) == len(column)
        and all(type(value) is type(first) for value in column)
    )


#: Values :func:`_one_value` may send once: texts (and enums of them), numbers, times, NULL.
_PLAIN = (str, int, float, datetime, type(None))


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration.

    A database already at the newest revisions is seen with one plain query, so
    Alembic is imported only when there is work to do. On PostgreSQL the upgrade
    holds an advisory lock for its transaction, so two processes starting on a
    fresh database at once migrate one after the other (the second then finds
    nothing to do) instead of both creating types.

    Raises:
        CrosspostError: the database was written by a newer crosspost.
    """
    if _applied(engine) == migration_heads():
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        _refuse_newer(connection, config)
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")


def _refuse_newer(connection: Connection, config: Config) -> None:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    current = MigrationContext.configure(connection).get_current_heads()
    if not current:  # a fresh database: nothing to compare
        return
    scripts = ScriptDirectory.from_config(config)
    unknown = sorted(set(current) - {script.revision for script in scripts.walk_revisions()})
    if unknown:
        newest = scripts.get_current_head()
        raise CrosspostError(
            f"the database was written by a newer crosspost (schema revision {unknown[0]}; "
            f"this one knows up to {newest}): upgrade crosspost to use it"
        )


def _applied(engine: Engine) -> frozenset[str]:
    """The revisions the database is at; empty when it has none (or no schema yet)."""
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:
        return frozenset()
    return frozenset(str(row[0]) for row in rows)


def dialect_module(name: str) -> Any:
    """``sqlalchemy.dialects.postgresql`` or ``.sqlite`` by dialect name, imported when used.

    Importing the PostgreSQL dialect costs a SQLite user a tenth of a second at every start.
    """
    import importlib

    return importlib.import_module(
        "sqlalchemy.dialects.postgresql" if name == "postgresql" else "sqlalchemy.dialects.sqlite"
    )


def closed_by_server(connection: Connection) -> bool:
    """Whether PostgreSQL has closed ``connection``'s link, as it does when it restarts,
    found without a round trip: an idle connection has nothing to read until the server
    ends it (a notice, a changed setting, read as a closed link too, cost one
    reconnection). Never on SQLite."""
    if connection.dialect.name != "postgresql":
        return False
    driver = connection.connection.driver_connection
    if driver is None or driver.closed:
        return True
    return _readable(driver.pgconn.socket)


def _readable(descriptor: int) -> bool:
    """Whether ``descriptor`` has something to read, or is closed, now (no wait)."""
    if not hasattr(select, "poll"):  # Windows
        return bool(select.select([descriptor], [], [], 0)[0])
    poller = select.poll()  # not select(): a daemon's descriptors may be above 1024
    poller.register(descriptor, select.POLLIN)
    return bool(poller.poll(0))
