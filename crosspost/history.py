"""What ``check`` and ``status`` read of the store, from a SQLite file without the ORM.

``check`` plays the queue slots ahead from the store's history: the items each queue
sent, its rows still waiting for an item, the pinned ``next-slot`` times, the one-offs
that hold a time, and the approvals given with ``crosspost approve``. ``status``
shows the counts per state, some publications, the held accounts, the failing feeds
and the last heartbeat. Opening the store imports SQLAlchemy and the ORM models, most
of a cold ``check`` or ``status``; for a SQLite file, :func:`read_sqlite_history` and
:class:`StoredStatus` run the same queries with the standard library, read-only
(nothing is written or migrated); the rows the queue planner plays are in
:mod:`crosspost.history_rows`. Each query is the twin of one in
:mod:`crosspost.store` or its modules, and ``tests/test_history.py`` and
``tests/test_stored_status.py`` check that both read the same rows.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from crosspost.status import FEED_PREFIX, NEXT_SLOT, ONE_OFF_PREFIX, QUEUE_PREFIX, Status

if TYPE_CHECKING:
    import sqlite3

    from crosspost.history_rows import Booked, Turn

__all__ = [
    "NOT_A_TURN",
    "OCCUPYING",
    "PARAMETERS_PER_STATEMENT",
    "FeedFailure",
    "Heartbeat",
    "History",
    "Hold",
    "Listed",
    "StoredStatus",
    "chunked",
    "migration_heads",
    "open_current_sqlite",
    "open_sqlite_status",
    "placeholders",
    "read_only",
    "read_sqlite_history",
    "sql_time",
    "sqlite_path",
    "stored_utc",
]

#: States in which a publication holds its time: a slot near it is not free.
OCCUPYING = (
    Status.PLANNED,
    Status.AWAITING_APPROVAL,
    Status.PUBLISHING,
    Status.PUBLISHED,
    Status.UNKNOWN,
)
#: States that do not count as a queue's turn: nothing of the item was tried.
NOT_A_TURN = (Status.MISSED, Status.CANCELLED, Status.AWAITING_APPROVAL)
#: ``sqlite:///path`` with an optional driver (``sqlite+pysqlite``) and query string.
_SQLITE_URL = re.compile(r"^sqlite(\+\w+)?:///(?P<path>[^?]*)")
#: The store's migrations: a database at their newest revisions has every table read here.
MIGRATIONS = Path(__file__).resolve().parent / "store" / "migrations"
_REVISION = re.compile(r"^(down_revision|revision)\b[^=]*=\s*(.+)$", re.MULTILINE)


@dataclass(frozen=True)
class History:
    """The store's rows the queue planner needs, read once."""

    #: What the queues chose so far, in due order.
    turns: Sequence[Turn] = ()
    #: Queue rows due before now whose item is not chosen yet:
    #: ``(entry, occurrence, account, due_at)``, in due order.
    pending: Sequence[tuple[str, str, str, datetime]] = ()
    #: When each ``at: next-slot`` entry goes out, per ``(entry, account)``.
    pinned: Mapping[tuple[str, str], datetime] = field(default_factory=dict)
    #: One-offs, a feed's posts and pinned rows that hold their time, in due order.
    booked: Sequence[Booked] = ()
    #: ``(content id, hash)`` → who approved it with ``crosspost approve``.
    approved: Mapping[tuple[str, str], str] = field(default_factory=dict)


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL; None for another database or an in-memory one."""
    match = _SQLITE_URL.match(url)
    if match is None or match["path"] in ("", ":memory:"):
        return None
    return Path(match["path"])


def read_sqlite_history(
    url: str,
    queue_entries: Collection[str],
    pinned_entries: Collection[str],
    now: datetime,
    around: tuple[datetime, datetime],
) -> History | None:
    """The history of a SQLite file, read with the standard library alone.

    Args:
        url: the database URL.
        queue_entries: the entries of every queue (their turns and waiting rows are read).
        pinned_entries: the ``at: next-slot`` entries.
        now: rows waiting for an item are those due before this.
        around: the one-offs and pinned rows due in this range are read.

    Returns:
        The history (empty when there is no file yet), or None when ``url`` is not a
        SQLite file (open the store instead).

    Raises:
        sqlite3.Error: the file cannot be read as a crosspost database.
    """
    path = sqlite_path(url)
    if path is None:
        return None
    if not path.is_file():
        return History()
    connection = read_only(path)
    try:
        return History(
            turns=_turns(connection, queue_entries),
            pending=_pending(connection, queue_entries, now),
            pinned=_pinned(connection, pinned_entries),
            booked=_booked(connection, around, pinned_entries),
            approved=_approved(connection),
        )
    finally:
        connection.close()


def read_only(path: Path) -> sqlite3.Connection:
    """The SQLite file at ``path``, opened for reading only."""
    import sqlite3  # only when there is a file to read: most checks have none

    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def sql_time(moment: datetime) -> str:
    """``moment`` as the store binds a datetime for SQLite: its UTC fields, without the zone."""
    if moment.tzinfo is not None and moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def stored_utc(stored: str) -> datetime:
    """A time the store wrote, as SQLite hands it back (text); the store writes only UTC."""
    at = datetime.fromisoformat(stored)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


#: Values bound in one statement at most (an ``IN (…)`` list, the rows of one insert):
#: SQLite builds before 3.32 refuse more than 999 parameters.
PARAMETERS_PER_STATEMENT = 500

_T = TypeVar("_T")


def chunked(values: Sequence[_T], size: int = PARAMETERS_PER_STATEMENT) -> Iterator[list[_T]]:
    """``values`` in lists of at most ``size`` (bound parameters have a limit)."""
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


def placeholders(values: Collection[object]) -> str:
    """``?, ?, ?``: one parameter per value."""
    return ", ".join("?" * len(values))


def _values(statuses: Sequence[Status]) -> list[str]:
    return [status.value for status in statuses]


def _turns(connection: sqlite3.Connection, entries: Collection[str]) -> list[Turn]:
    if not entries:
        return []
    from crosspost.history_rows import Turn  # only with a file to read: most checks have none

    query = (
        "SELECT entry, account, content_id, due_at FROM publication"
        f" WHERE entry IN ({placeholders(entries)}) AND content_id NOT LIKE ?"
        f" AND status NOT IN ({placeholders(NOT_A_TURN)}) ORDER BY due_at, id"
    )
    rows = connection.execute(query, [*sorted(entries), f"{QUEUE_PREFIX}%", *_values(NOT_A_TURN)])
    return [Turn(e, a, c, stored_utc(d)) for e, a, c, d in rows]


def _pending(
    connection: sqlite3.Connection, entries: Collection[str], now: datetime
) -> list[tuple[str, str, str, datetime]]:
    if not entries:
        return []
    query = (
        "SELECT entry, occurrence, account, due_at FROM publication"
        f" WHERE entry IN ({placeholders(entries)}) AND status = ? AND content_id LIKE ?"
        " AND due_at < ? AND expires_at >= ? ORDER BY due_at, id"
    )
    at = sql_time(now)
    values = [*sorted(entries), Status.PLANNED.value, f"{QUEUE_PREFIX}%", at, at]
    return [(e, o, a, stored_utc(d)) for e, o, a, d in connection.execute(query, values)]


def _pinned(
    connection: sqlite3.Connection, entries: Collection[str]
) -> dict[tuple[str, str], datetime]:
    if not entries:
        return {}
    query = (
        "SELECT entry, account, due_at FROM publication"
        f" WHERE entry IN ({placeholders(entries)}) AND occurrence = ?"
    )
    rows = connection.execute(query, [*sorted(entries), NEXT_SLOT])
    return {(entry, account): stored_utc(due) for entry, account, due in rows}


def _booked(
    connection: sqlite3.Connection,
    around: tuple[datetime, datetime],
    pinned_entries: Collection[str],
) -> list[Booked]:
    from crosspost.history_rows import Booked

    pinned = sorted(set(pinned_entries))
    query = (
        "SELECT entry, account, due_at FROM publication"
        f" WHERE due_at >= ? AND due_at <= ? AND status IN ({placeholders(OCCUPYING)})"
        f" AND (entry LIKE ? OR entry LIKE ? OR entry IN ({placeholders(pinned)}))"
        " ORDER BY due_at, entry, account"
    )
    low, high = around
    values = [
        sql_time(low),
        sql_time(high),
        *_values(OCCUPYING),
        f"{ONE_OFF_PREFIX}%",
        f"{FEED_PREFIX}%",
    ]
    rows = connection.execute(query, [*values, *pinned])
    return [Booked(entry, account, stored_utc(due)) for entry, account, due in rows]


def _approved(connection: sqlite3.Connection) -> dict[tuple[str, str], str]:
    rows = connection.execute("SELECT content_id, content_hash, approved_by FROM approval")
    return {(content_id, digest): by for content_id, digest, by in rows}


# --------------------------------------------------------------------------- status


@cache
def migration_heads() -> frozenset[str]:
    """The newest revisions, read from the migration files as Alembic would chain them."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        for name, value in _REVISION.findall(script.read_text(encoding="utf-8")):
            found = set(re.findall(r"[\"']([^\"']+)[\"']", value))
            (revisions if name == "revision" else parents).update(found)
    return frozenset(revisions - parents)


# The rows below are named tuples: a dataclass costs ``check``, which imports this
# module too, four times as much to define.
class Listed(NamedTuple):
    """A publication with what ``status`` shows of it."""

    id: int
    entry: str
    occurrence: str
    account: str
    status: Status
    due_at: datetime
    remote_id: str | None
    url: str | None
    error: str | None


class Heartbeat(NamedTuple):
    """When a daemon was last seen alive, and when it stopped cleanly (None: it did not)."""

    alive_at: datetime
    stopped_at: datetime | None = None


class Hold(NamedTuple):
    """An account held since its credentials failed."""

    account: str
    reason: str
    since: datetime


class FeedFailure(NamedTuple):
    """A feed whose last fetch failed."""

    feed: str
    last_fetch_at: datetime | None
    error: str


class StoredStatus:
    """What ``status`` reads of a SQLite store at the newest schema, read-only.

    The methods are the twins of :meth:`~crosspost.store.Store.counts`,
    :meth:`~crosspost.store.Store.publications`,
    :meth:`~crosspost.store.Store.last_heartbeat`,
    :func:`~crosspost.store.account_state.holds` and
    :func:`~crosspost.store.feeds.failing_feeds`.
    """

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def close(self) -> None:
        """Close the file."""
        self._connection.close()

    def counts(self) -> dict[Status, int]:
        """How many publications are in each status."""
        rows = self._connection.execute("SELECT status, count(*) FROM publication GROUP BY status")
        return {Status(status): number for status, number in rows}

    def publications(
        self, statuses: Iterable[str] = (), since: datetime | None = None
    ) -> list[Listed]:
        """Publications in due order, of ``statuses`` (all if none) due from ``since`` on."""
        wanted = [Status(status).value for status in statuses]
        where = [f"status IN ({placeholders(wanted)})"] if wanted else []
        values: list[str] = list(wanted)
        if since is not None:
            where.append("due_at >= ?")
            values.append(sql_time(since))
        query = (
            "SELECT id, entry, occurrence, account, status, due_at, remote_id, url, error"
            " FROM publication" + (" WHERE " + " AND ".join(where) if where else "")
        )
        rows = self._connection.execute(query + " ORDER BY due_at, id", values)
        return [
            Listed(
                id, entry, occurrence, account, Status(status), stored_utc(due), remote, url, error
            )
            for id, entry, occurrence, account, status, due, remote, url, error in rows
        ]

    def last_heartbeat(self, *, running: bool = False) -> Heartbeat | None:
        """The most recent heartbeat of any daemon; ``running``: of a daemon not stopped."""
        query = "SELECT alive_at, stopped_at FROM daemon_heartbeat"
        query += " WHERE stopped_at IS NULL" if running else ""
        row = self._connection.execute(query + " ORDER BY alive_at DESC LIMIT 1").fetchone()
        if row is None:
            return None
        alive_at, stopped_at = row
        stopped = None if stopped_at is None else stored_utc(stopped_at)
        return Heartbeat(stored_utc(alive_at), stopped)

    def holds(self) -> list[Hold]:
        """Every held account, oldest hold first."""
        rows = self._connection.execute(
            "SELECT account, reason, since FROM account_hold ORDER BY since"
        )
        return [Hold(account, reason, stored_utc(since)) for account, reason, since in rows]

    def failing_feeds(self) -> list[FeedFailure]:
        """The feeds whose last fetch failed, by name."""
        query = (
            "SELECT feed, last_fetch_at, error FROM feed_state"
            " WHERE error IS NOT NULL AND error != '' ORDER BY feed"
        )
        return [
            FeedFailure(feed, stored_utc(at) if at is not None else None, error)
            for feed, at, error in self._connection.execute(query)
        ]


def open_sqlite_status(url: str) -> StoredStatus | None:
    """The store of ``url`` for ``status``, read with the standard library alone; None
    where :func:`open_current_sqlite` leaves the file to the store."""
    connection = open_current_sqlite(url)
    return None if connection is None else StoredStatus(connection)


def open_current_sqlite(url: str) -> sqlite3.Connection | None:
    """The SQLite file of ``url`` opened read-only, if its schema is the newest.

    Returns:
        None when ``url`` is not a SQLite file, when there is no file yet, or when its
        schema is not at the newest migration: the store creates or upgrades it (or
        refuses one written by a newer crosspost).

    Raises:
        sqlite3.Error: the file cannot be read as a crosspost database.
    """
    path = sqlite_path(url)
    if path is None or not path.is_file():
        return None
    import sqlite3

    connection = read_only(path)
    try:
        rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.Error:
        connection.close()
        raise
    if frozenset(str(row[0]) for row in rows) != migration_heads():
        connection.close()
        return None
    return connection
