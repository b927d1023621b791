"""Record one publication and start the account's next one, in one transaction.

An account's worker sends its posts one after the other. After each post it
must record the result, claim the next due row and mark that row as sending
(``send_started_at``, docs/states.md) before its request leaves: three short
transactions, each taking SQLite's write lock. When the worker has rendered the
next row already (it read it in the previous such transaction), the three are
one: the result of the post just sent, the claim of the next (only if it is
unchanged, still planned and due) with its ``send_started_at``, and a look at the
row after that one (not claimed), committed together. Nothing is sent inside
the transaction, and the guarantee is per row as before: a row is marked as
sending, durably, before its request leaves, and a row whose sending never
started (a stop before it went) is handed back ``planned``. The last post of a
turn is recorded with a look at the account's next due row instead
(:func:`record_and_look`): when there is none, the worker's turn ends there.
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, cast
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, Text, UpdateBase, bindparam, or_, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.orm import class_mapper, make_transient_to_detached
from sqlmodel import col

from crosspost.status import Status
from crosspost.store import Store
from crosspost.store.account_state import LimitsReport
from crosspost.store.conditions import due, held_by  # the same rules as every claim
from crosspost.store.db import dialect_module, is_sqlite
from crosspost.store.lease import Holder
from crosspost.store.models import AccountLimits, Publication
from crosspost.store.prepared import Prepared, cursor_of
from crosspost.store.records import Sent

__all__ = [
    "Handed",
    "Handover",
    "record_and_hand_over",
    "record_and_look",
    "turn_connection",
    "upcoming",
]


@dataclass(frozen=True)
class Handover:
    """The account's next publication, rendered by the worker and ready to send."""

    #: As the worker read it (the claim holds only if it is unchanged and still due).
    row: Publication
    lease: timedelta
    holder: Holder | None


@dataclass(frozen=True)
class Handed:
    """What one :func:`record_and_hand_over` transaction did."""

    #: The result was written (False: the lease was lost; nothing else happened).
    recorded: bool
    #: The next publication, claimed and marked as sending; None when it was not due any
    #: more (cancelled, taken by another worker, …): the worker claims as usual.
    sending: Publication | None = None
    #: The account's oldest due publication after it, not claimed.
    upcoming: Publication | None = None


def record_and_hand_over(
    store: Store,
    publication_id: int,
    worker: str,
    now: datetime,
    outcome: Sent,
    handover: Handover,
    limits: LimitsReport | None = None,
    *,
    connection: Connection | None = None,
) -> Handed:
    """Record ``outcome`` of our claim on ``publication_id`` and start ``handover``'s row;
    with ``limits``, write them as :func:`~crosspost.store.account_state.remember_limits`
    does, in the same transaction. ``connection``: one of ``store``'s the caller holds for
    the account's turn (:func:`turn_connection`), else one from the pool."""
    statements = _statements(store.engine.dialect)
    following = handover.row
    until, holder = now + handover.lease, handover.holder
    engine = store.engine
    with (
        _one_writer(engine),
        _connected(engine, connection) as connection,
        connection.begin() as transaction,
        cursor_of(connection) as cursor,
    ):
        if not _record(statements, cursor, publication_id, worker, now, outcome, limits):
            transaction.rollback()
            return Handed(False)
        leased = _leased(worker, until, now, holder, following.attempts + 1)
        started = statements.start.run(
            cursor,
            {
                "b_pid": following.id,
                "b_account": following.account,
                "b_attempts": following.attempts,
                "b_now": now,
                "b_worker": worker,
                "b_until": until,
                "b_host": leased["claimed_host"],
                "b_holder_pid": leased["claimed_pid"],
                "b_process_start": leased["claimed_process_start"],
            },
        ).rowcount
        after = _oldest(statements, cursor, following.account, following.id, now)
    if not started:
        return Handed(True, None, after)
    # what the statement wrote, into the detached row as a load would put it: through the
    # model's __setattr__ (pydantic, then the ORM's change events) it cost more than the UPDATE
    following.__dict__.update(leased)
    return Handed(True, following, after)


def record_and_look(
    store: Store,
    publication_id: int,
    worker: str,
    now: datetime,
    outcome: Sent,
    account: str,
    limits: LimitsReport | None = None,
    *,
    connection: Connection | None = None,
) -> Handed:
    """Record ``outcome`` of our claim on ``publication_id`` (and ``limits``, as
    :func:`record_and_hand_over` does) and, in the same transaction, read ``account``'s
    oldest due publication (not claimed): when none is, the worker's turn ends without a
    claim of its own to find that out. ``connection`` as for :func:`record_and_hand_over`."""
    statements = _statements(store.engine.dialect)
    with (
        _one_writer(store.engine),
        _connected(store.engine, connection) as connection,
        connection.begin() as transaction,
        cursor_of(connection) as cursor,
    ):
        if not _record(statements, cursor, publication_id, worker, now, outcome, limits):
            transaction.rollback()
            return Handed(False)
        return Handed(True, None, _oldest(statements, cursor, account, publication_id, now))


def upcoming(
    store: Store, account: str, now: datetime, *, connection: Connection | None = None
) -> Publication | None:
    """The oldest due publication of ``account``, read without claiming it (``connection``
    as for :func:`record_and_hand_over`)."""
    statements = _statements(store.engine.dialect)
    # one read: no write lock, nothing to commit
    with _connected(store.engine, connection) as connection, cursor_of(connection) as cursor:
        return _oldest(statements, cursor, account, -1, now)


def turn_connection(store: Store) -> Connection | None:
    """A connection for a worker to hold through an account's turn, on SQLite: taking one
    from the pool and handing it back cost as much as a third of the transaction it
    served. None on PostgreSQL, where each transaction takes one from the pool, which
    pings the server first (a connection held through a turn could have gone stale)."""
    return store.engine.connect() if is_sqlite(store.engine) else None


def _connected(engine: Engine, held: Connection | None) -> AbstractContextManager[Connection]:
    """``held``, left open, else a connection from the pool, handed back after use."""
    return nullcontext(held) if held is not None else engine.connect()


def _one_writer(engine: Engine) -> AbstractContextManager[object]:
    """On SQLite, this process's workers take turns here before they ask for the write
    lock: SQLite has a waiting connection poll for it, sleeping 1, 2, 5, 10 ms… in
    between, while a turn takes a fraction of a millisecond; a lock hands over at once.
    On PostgreSQL they write at the same time (each locks its own rows)."""
    if not is_sqlite(engine):
        return nullcontext()
    with _LOCKS_LOCK:
        lock = _WRITER_LOCKS.get(engine)
        if lock is None:
            lock = _WRITER_LOCKS[engine] = threading.Lock()
    return lock


_WRITER_LOCKS: WeakKeyDictionary[Engine, threading.Lock] = WeakKeyDictionary()
_LOCKS_LOCK = threading.Lock()


def _record(
    statements: _Statements,
    cursor: DBAPICursor,
    publication_id: int,
    worker: str,
    now: datetime,
    outcome: Sent,
    limits: LimitsReport | None,
) -> bool:
    """Write ``outcome`` on our claim of ``publication_id``, and ``limits``; False (nothing
    written) if the claim is not ours any more."""
    mine = {"b_pid": publication_id, "b_worker": worker, "b_now": now}
    values = {f"v_{name}": value for name, value in outcome.columns().items()}
    if not statements.record.run(cursor, {**mine, **values}).rowcount:
        return False
    if limits is not None:
        reported = {
            "l_account": limits.account,
            "l_hash": limits.settings_hash,
            "l_limits": dict(limits.limits),
            "l_at": limits.reported_at,
        }
        statements.limits.run(cursor, reported)
    return True


def _oldest(
    statements: _Statements, cursor: DBAPICursor, account: str, not_id: int | None, now: datetime
) -> Publication | None:
    """The account's oldest due publication other than ``not_id``, as a detached object
    (as a closed session leaves what it loaded)."""
    found = statements.oldest.first(
        cursor, {"b_account": account, "b_not_id": not_id, "b_now": now}
    )
    return None if found is None else _detached(found)


def _leased(
    worker: str, until: datetime, now: datetime, holder: Holder | None, attempts: int
) -> dict[str, Any]:
    """The values the ``start`` statement writes on the row it claims and marks as sending
    (those :func:`~crosspost.store.dispatching.take_lease` sets, and the holder as written)."""
    return {
        "status": Status.PUBLISHING,
        "claimed_by": worker,
        "claimed_until": until,
        "send_started_at": now,
        "attempts": attempts,
        "updated_at": now,
        "claimed_host": holder.host if holder else None,
        "claimed_pid": holder.pid if holder else None,
        "claimed_process_start": holder.process_start if holder else None,
    }


def _detached(values: dict[str, Any]) -> Publication:
    """A publication as a closed session leaves one it loaded, built as the ORM's loader
    builds it (the model's constructor, field by field, cost ten times as much)."""
    row: Publication = class_mapper(Publication).class_manager.new_instance()
    row.__dict__.update(values)
    make_transient_to_detached(row)
    return row


@dataclass(frozen=True)
class _Statements:
    record: Prepared
    start: Prepared
    oldest: Prepared
    limits: Prepared


@lru_cache(maxsize=8)  # per engine: a process has one, a test run many
def _statements(dialect: Dialect) -> _Statements:
    """Built and compiled once per dialect: building them for every post cost more than
    running them, and so did running them through a session (:mod:`.prepared`)."""
    table = Publication.__table__  # type: ignore[attr-defined]
    now = cast(datetime, bindparam("b_now"))
    due_now = due(now, ())
    sent = Sent(None, None, None).columns()
    record = (
        update(table)
        .where(*held_by(cast(int, bindparam("b_pid")), cast(str, bindparam("b_worker"))))
        .values(
            claimed_by=None,
            claimed_until=None,
            updated_at=bindparam("b_now"),
            **{name: bindparam(f"v_{name}") for name in sent},
        )
    )
    mine = col(Publication.account) == bindparam("b_account")
    start = (
        update(table)
        .where(
            col(Publication.id) == bindparam("b_pid"),
            mine,
            col(Publication.attempts) == bindparam("b_attempts"),  # unchanged since it was read
            *due_now,
        )
        .values(
            status=Status.PUBLISHING,
            claimed_by=bindparam("b_worker"),
            claimed_until=bindparam("b_until"),
            send_started_at=bindparam("b_now"),
            attempts=col(Publication.attempts) + 1,
            updated_at=bindparam("b_now"),
            claimed_host=bindparam("b_host"),
            claimed_pid=bindparam("b_holder_pid"),
            claimed_process_start=bindparam("b_process_start"),
        )
    )
    oldest = (
        select(*table.columns)
        .where(mine, col(Publication.id) != bindparam("b_not_id"), *due_now)
        .order_by(col(Publication.due_at), col(Publication.id))
        .limit(1)
    )
    return _Statements(
        Prepared(record, dialect),
        Prepared(start, dialect),
        Prepared(oldest, dialect),
        Prepared(_limits_upsert(dialect), dialect),
    )


def _limits_upsert(dialect: Dialect) -> UpdateBase:
    """``remember_limits`` in one statement: written unless the same are stored already
    (their ``reported_at`` then stays)."""
    table = AccountLimits.__table__  # type: ignore[attr-defined]
    insert = dialect_module(dialect.name).insert(table)
    insert = insert.values(
        account=bindparam("l_account"),
        settings_hash=bindparam("l_hash"),
        limits=bindparam("l_limits"),
        reported_at=bindparam("l_at"),
    )
    new = insert.excluded
    changed = or_(
        table.c.settings_hash != new.settings_hash,
        sql_cast(table.c.limits, Text) != sql_cast(new.limits, Text),  # as the JSON was written
    )
    written = {
        "settings_hash": new.settings_hash,
        "limits": new.limits,
        "reported_at": new.reported_at,
    }
    upsert: UpdateBase = insert.on_conflict_do_update(
        index_elements=["account"], set_=written, where=changed
    )
    return upsert
