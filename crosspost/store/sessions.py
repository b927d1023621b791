"""What every store module needs of SQLAlchemy: a session, a table, UTC values, chunked updates.

SQLite hands datetimes back naive (and aggregates as text); the store only ever writes
UTC, so a value without a zone is UTC. These were once a private copy in each module;
code outside the store that reads a row's times uses :func:`utc` too.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Table
from sqlmodel import Session

from crosspost.history import chunked

__all__ = [
    "session_on",
    "table_of",
    "update_chunked",
    "utc",
    "utc_or_none",
    "utc_read",
]


def session_on(engine: Engine) -> Session:
    """A session whose rows stay readable after its commit (they leave the store)."""
    return Session(engine, expire_on_commit=False)


def table_of(model: Any) -> Table:
    """The SQLAlchemy table of a SQLModel table class (for Core inserts and updates)."""
    table: Table = model.__table__
    return table


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a value without a zone is UTC (SQLite hands them back naive)."""
    if moment.tzinfo is UTC:  # what the store's UTCDateTime hands back: nothing to do
        return moment
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def utc_or_none(moment: datetime | None) -> datetime | None:
    """:func:`utc`, None kept."""
    return None if moment is None else utc(moment)


def utc_read(value: datetime | str) -> datetime:
    """:func:`utc` of a value an aggregate returned: SQLite gives text there (``MIN``,
    ``MAX`` bypass the column type)."""
    return utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


def update_chunked(session: Session, statement: Any, ids: Iterable[int]) -> int:
    """Run the update ``statement`` on the rows of ``ids`` (a few hundred at a time);
    how many it changed."""
    changed = 0
    for chunk in chunked(sorted(ids)):
        result = session.execute(statement.where(statement.table.c.id.in_(chunk)))
        changed += int(result.rowcount)  # type: ignore[attr-defined]
    return changed
