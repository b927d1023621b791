"""Writing what became of a publication: a worker's result, a reconciliation, a decision.

Each outcome (:mod:`crosspost.store.records`) is written in one transaction with
the publications that exist because of it (a first comment), and only while the
row is still in the state it was decided on: a worker's result only under its
claim, a reconciliation only while the row is ``unknown``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import cast

from sqlalchemy import ColumnElement, Engine, Update, bindparam, exists, update
from sqlalchemy.orm import aliased
from sqlmodel import col

from crosspost.status import UNSETTLED, Status
from crosspost.store.conditions import held_by
from crosspost.store.db import insert_new
from crosspost.store.models import Publication
from crosspost.store.planned import PUBLICATION_KEY, PlannedRow, planned_values
from crosspost.store.records import Decision, Finish, Requeued
from crosspost.store.sessions import session_on, table_of

__all__ = ["finish", "resolve", "settle", "wake_waiting"]


def finish(
    engine: Engine,
    publication_id: int,
    worker: str,
    now: datetime,
    outcome: Finish,
    follow: Sequence[PlannedRow],
) -> bool:
    """Record ``outcome`` and ``follow`` if ``worker`` still holds the claim.

    A requeued announcement is woken at once if what it waits for settled meanwhile.
    """
    held = {"b_pid": publication_id, "b_worker": worker}
    recorded = _record(engine, outcome, now, follow, _HELD, held)
    if recorded and isinstance(outcome, Requeued) and outcome.waits_for is not None:
        _wake_if_settled(engine, publication_id, outcome.waits_for, now)
    return recorded


def settle(
    engine: Engine,
    publication_id: int,
    now: datetime,
    outcome: Finish,
    follow: Sequence[PlannedRow],
) -> bool:
    """Record ``outcome`` and ``follow`` if the publication is still ``unknown``."""
    return _record(engine, outcome, now, follow, _UNKNOWN, {"b_pid": publication_id})


_HELD, _UNKNOWN = "held", "unknown"


def _record(
    engine: Engine,
    outcome: Finish,
    now: datetime,
    follow: Sequence[PlannedRow],
    condition: str,
    bound: dict[str, object],
) -> bool:
    values = {"claimed_by": None, "claimed_until": None, "updated_at": now, **outcome.columns()}
    computed = {name: v for name, v in values.items() if isinstance(v, ColumnElement)}
    plain = tuple(sorted(name for name in values if name not in computed))
    statement = _record_statement(condition, plain)
    if computed:  # ``attempts - 1``: rare, and part of the statement itself
        statement = statement.values(**computed)
    params = {**bound, **{f"v_{name}": values[name] for name in plain}}
    with engine.begin() as connection:
        recorded = bool(connection.execute(statement, params).rowcount)
        if recorded and follow:
            table = table_of(Publication)
            insert_new(connection, table, planned_values(follow, now), PUBLICATION_KEY)
    return recorded


@lru_cache(maxsize=64)
def _record_statement(condition: str, columns: tuple[str, ...]) -> Update:
    """The UPDATE that records an outcome while ``condition`` holds, setting ``columns``.

    Built once per shape with bind parameters (``b_pid``, ``b_worker``, ``v_<column>``):
    building it anew for each record, and the ORM's version of it, took most of the
    record's CPU. A Core update, because the ORM's would also look for loaded rows to
    change (there are none in a new transaction).
    """
    table = table_of(Publication)
    pid = cast(int, bindparam("b_pid"))
    if condition == _HELD:
        where = held_by(pid, cast(str, bindparam("b_worker")))
    else:
        where = [col(Publication.id) == pid, col(Publication.status) == Status.UNKNOWN]
    setting = {name: bindparam(f"v_{name}", type_=table.c[name].type) for name in columns}
    return update(table).where(*where).values(setting)


def wake_waiting(engine: Engine, entry: str, occurrence: str, account: str, now: datetime) -> int:
    """Make due now the planned announcements waiting for ``account``'s publication of
    this occurrence; return how many."""
    statement = (
        update(Publication)
        .where(
            col(Publication.entry) == entry,
            col(Publication.occurrence) == occurrence,
            col(Publication.waits_for) == account,
            col(Publication.status) == Status.PLANNED,
        )
        .values(next_attempt_at=now, updated_at=now)
    )
    with session_on(engine) as session:
        result = session.execute(statement)
        session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


def _wake_if_settled(engine: Engine, publication_id: int, awaited: str, now: datetime) -> None:
    """Make a just-requeued announcement due now if ``awaited`` settled meanwhile.

    The awaited account's record may land while the announcement is still being
    looked at (another account's worker), when :func:`wake_waiting` finds nothing
    planned to wake; run after the requeue, this closes that gap. The statement
    reads the other row itself, so it sees any record committed before it.
    """
    other = aliased(Publication)
    still_open = exists().where(
        col(other.entry) == col(Publication.entry),
        col(other.occurrence) == col(Publication.occurrence),
        col(other.account) == awaited,
        col(other.status).in_(UNSETTLED),
    )
    statement = (
        update(Publication)
        .where(
            col(Publication.id) == publication_id,
            col(Publication.status) == Status.PLANNED,
            col(Publication.waits_for) == awaited,
            ~still_open,
        )
        .values(next_attempt_at=now, updated_at=now)
    )
    with session_on(engine) as session:
        session.execute(statement)
        session.commit()


def resolve(
    engine: Engine, publication_id: int, now: datetime, decision: Decision
) -> Publication | None:
    """Write a person's ``decision`` on the publication; None if there is no such row."""
    with session_on(engine) as session:
        row = session.get(Publication, publication_id)
        if row is None:
            return None
        for name, value in {**decision.columns(), "updated_at": now}.items():
            setattr(row, name, value)
        session.add(row)
        session.commit()
        return row
