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
(:func:`record_and_look`): when there is none, the worker's turn ends there. On
PostgreSQL the statements of such a transaction are one (:mod:`.handover_together`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache, partial
from typing import Any, NamedTuple, cast
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
from crosspost.store.db import HELD_AT_MOST, closed_by_server, dialect_module, is_sqlite
from crosspost.store.handover_together import together
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
    following = handover.row
    assert following.id is not None
    until, holder = now + handover.lease, handover.holder
    leased = _leased(worker, until, now, holder, following.attempts + 1)
    start = {
        "b_next": following.id,
        "b_attempts": following.attempts,
        "b_until": until,
        "b_host": leased["claimed_host"],
        "b_holder_pid": leased["claimed_pid"],
        "b_process_start": leased["claimed_process_start"],
    }
    write = _Write(publication_id, worker, now, outcome, limits)
    done = _record_start_look(store, write, following.account, following.id, start, connection)
    if not done.started:
        return Handed(done.recorded, None, done.upcoming)
    # what the statement wrote, into the detached row as a load would put it: through the
    # model's __setattr__ (pydantic, then the ORM's change events) it cost more than the UPDATE
    following.__dict__.update(leased)
    return Handed(True, following, done.upcoming)


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
    write = _Write(publication_id, worker, now, outcome, limits)
    done = _record_start_look(store, write, account, publication_id, None, connection)
    return Handed(done.recorded, None, done.upcoming)


@dataclass(frozen=True)
class _Write:
    """The record of one post: its result, written under our claim, and the limits."""

    publication_id: int
    worker: str
    now: datetime
    outcome: Sent
    limits: LimitsReport | None

    def values(self) -> dict[str, Any]:
        """The record's bound values (the limits' too, when reported)."""
        values = {"b_pid": self.publication_id, "b_worker": self.worker, "b_now": self.now}
        values.update({f"v_{name}": value for name, value in self.outcome.columns().items()})
        limits = self.limits
        if limits is not None:
            values["l_account"], values["l_hash"] = limits.account, limits.settings_hash
            values["l_limits"], values["l_at"] = dict(limits.limits), limits.reported_at
        return values


class _Done(NamedTuple):
    recorded: bool
    started: bool
    upcoming: Publication | None


def _record_start_look(
    store: Store,
    write: _Write,
    account: str,
    not_id: int,
    start: dict[str, Any] | None,
    connection: Connection | None,
) -> _Done:
    """Write ``write``; if it was written, start the row of ``start`` (its values, None:
    no start) and read ``account``'s oldest due row other than ``not_id``."""
    statements = _statements(store.engine.dialect)
    values = {**write.values(), **(start or {}), "b_account": account, "b_not_id": not_id}
    if statements.together is not None:
        limits = write.limits is not None
        return _together(store, statements, values, start is not None, limits, connection)
    engine = store.engine
    with (
        _one_writer(engine),
        _connected(engine, connection) as connection,
        connection.begin() as transaction,
        cursor_of(connection) as cursor,
    ):
        if not statements.record.run(cursor, values).rowcount:
            transaction.rollback()
            return _Done(False, False, None)
        if write.limits is not None:
            statements.limits.run(cursor, values)
        started = start is not None and bool(statements.start.run(cursor, values).rowcount)
        found = statements.oldest.first(cursor, values)
    return _Done(True, started, None if found is None else _detached(found))


def _together(
    store: Store,
    statements: _Statements,
    values: dict[str, Any],
    start: bool,
    limits: bool,
    held: Connection | None,
) -> _Done:
    """:func:`_record_start_look` as one statement, a transaction of its own (see
    :mod:`.handover_together`), on ``held`` (as :func:`turn_connection` gives it) or
    else a connection from the pool."""
    assert statements.together is not None
    prepared = statements.together[start, limits]
    with _connected(store.engine, held) as connection, cursor_of(connection) as cursor:
        found = prepared.first(cursor, values)
    assert found is not None, "the statement gives one row, recorded or not"
    recorded, started = bool(found.pop("recorded")), bool(found.pop("started"))
    upcoming = None if found["id"] is None else _detached(found)
    return _Done(recorded, started, upcoming)


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
    """A connection for a worker to hold through an account's turn, to hand back when the
    turn ends: taking one from the pool and handing it back for each post cost as much as
    a third of the transaction it served on SQLite, and a round trip to the server on
    PostgreSQL (the pool's ping). There it runs each statement as a transaction of its
    own (a handover is one statement), and it is not used once the server has closed it
    (:func:`~crosspost.store.db.closed_by_server`): the pool's connections serve instead.
    PostgreSQL's pool is bounded (a connection is a process of the server): a turn holds
    one only while the pool keeps room for everyone's short transactions
    (:data:`~crosspost.store.db.HELD_AT_MOST`); else None, and each statement of the
    turn takes one from the pool."""
    engine = store.engine
    if is_sqlite(engine):
        return _opened(engine)
    with _lock_of(engine, _HOLDING_LOCKS):  # one count and take at a time
        if engine.pool.checkedout() >= HELD_AT_MOST:  # type: ignore[attr-defined]
            return None
        return _opened(engine)


@contextmanager
def _connected(engine: Engine, held: Connection | None) -> Iterator[Connection]:
    """``held``, left open, else a connection from the pool, handed back after use."""
    if held is not None and not held.invalidated:
        if not closed_by_server(held):
            yield held
            return
        held.invalidate()  # a restart of the server, say: not used again
    with _opened(engine) as connection:
        yield connection


def _opened(engine: Engine) -> Connection:
    """A connection from the pool; one statement, one transaction where the handover is
    one statement (:data:`_Statements.together`)."""
    connection = engine.connect()
    if _statements(engine.dialect).together is not None:
        connection.execution_options(isolation_level="AUTOCOMMIT")
    return connection


def _one_writer(engine: Engine) -> AbstractContextManager[object]:
    """On SQLite, this process's workers take turns here before they ask for the write
    lock: SQLite has a waiting connection poll for it, sleeping 1, 2, 5, 10 ms… in
    between, while a turn takes a fraction of a millisecond; a lock hands over at once.
    On PostgreSQL they write at the same time (each locks its own rows)."""
    if not is_sqlite(engine):
        return nullcontext()
    return _lock_of(engine, _WRITER_LOCKS)


def _lock_of(engine: Engine, locks: WeakKeyDictionary[Engine, threading.Lock]) -> threading.Lock:
    """``engine``'s lock in ``locks``, made at the first call."""
    with _LOCKS_LOCK:
        lock = locks.get(engine)
        if lock is None:
            lock = locks[engine] = threading.Lock()
    return lock


_WRITER_LOCKS: WeakKeyDictionary[Engine, threading.Lock] = WeakKeyDictionary()
_HOLDING_LOCKS: WeakKeyDictionary[Engine, threading.Lock] = WeakKeyDictionary()
_LOCKS_LOCK = threading.Lock()


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
    #: Where the database runs them as one (:mod:`.handover_together`): by (start, limits).
    together: dict[tuple[bool, bool], Prepared] | None


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
            col(Publication.id) == bindparam("b_next"),
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
    statements = _Statements(
        Prepared(record, dialect),
        Prepared(start, dialect),
        Prepared(oldest, dialect),
        Prepared(_limits_upsert(dialect), dialect),
        None,
    )
    if dialect.name != "postgresql":  # SQLite has no writes in WITH
        return statements
    variants = {
        (starts, limits): together(
            record,
            start if starts else None,
            oldest,
            partial(_limits_upsert, dialect) if limits else None,
        )
        for starts in (True, False)
        for limits in (True, False)
    }
    compiled = {key: Prepared(query, dialect) for key, query in variants.items()}
    return replace(statements, together=compiled)


def _limits_upsert(dialect: Dialect, only_if: Any = None) -> UpdateBase:
    """``remember_limits`` in one statement: written unless the same are stored already
    (their ``reported_at`` then stays); with ``only_if``, written only if it holds."""
    table = AccountLimits.__table__  # type: ignore[attr-defined]
    insert = dialect_module(dialect.name).insert(table)
    binds = {"account": "l_account", "settings_hash": "l_hash", "limits": "l_limits",
             "reported_at": "l_at"}  # fmt: skip
    # typed as the columns they go into, also where they are selected (as VALUES types them)
    values = {name: bindparam(bind, type_=table.c[name].type) for name, bind in binds.items()}
    if only_if is None:
        insert = insert.values(**values)
    else:
        insert = insert.from_select(list(values), select(*values.values()).where(only_if))
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
