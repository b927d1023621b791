"""Queries behind writing the plan ahead in bulk (:mod:`crosspost.planning.sync`).

A sync reads the rows it may change in one query, decides in memory, and writes
the changes in one transaction, so its cost grows with the rows of the entries it
looks at, not with one round trip per entry. Every write is guarded by the state
it was decided on: a row claimed in between is left alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import and_, bindparam, func, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from crosspost.history import chunked
from crosspost.status import Status
from crosspost.store import Store
from crosspost.store.db import insert_new
from crosspost.store.models import EntryState, Publication
from crosspost.store.planned import CANCELLED_BY_SYNC
from crosspost.store.reading import EntryPlan
from crosspost.store.sessions import update_chunked, utc_read

__all__ = ["PlanRow", "next_due_after", "plan_rows", "save_planned_until", "set_plan_statuses"]

_T = TypeVar("_T")


@dataclass(frozen=True)
class PlanRow:
    """A never-tried row a sync may cancel or plan again."""

    id: int
    entry: str
    occurrence: str
    account: str
    status: str
    due_at: datetime


def plan_rows(store: Store, now: datetime, entries: Collection[str] | None) -> list[PlanRow]:
    """Never-tried rows of ``entries`` (all when None) that are planned, or were
    cancelled by a sync and are due from ``now`` on."""
    columns: list[Any] = [col(Publication.id), col(Publication.entry), col(Publication.occurrence)]
    columns += [col(Publication.account), col(Publication.status), Publication.due_at]
    condition = and_(
        col(Publication.attempts) == 0,
        or_(
            col(Publication.status) == Status.PLANNED.value,
            and_(
                col(Publication.status) == Status.CANCELLED.value,
                col(Publication.error) == CANCELLED_BY_SYNC,
                col(Publication.due_at) >= now,
            ),
        ),
    )
    found: list[PlanRow] = []
    with Session(store.engine) as session:
        for chunk in [None] if entries is None else chunked(sorted(entries)):
            query = sa_select(*columns).where(condition)
            if chunk is not None:
                query = query.where(col(Publication.entry).in_(chunk))
            found += [
                PlanRow(row[0], row[1], row[2], row[3], row[4], utc_read(row[5]))
                for row in session.execute(query)
            ]
    return found


def set_plan_statuses(
    store: Store, cancel: Iterable[int], restore: Iterable[int], now: datetime
) -> tuple[int, int]:
    """Cancel planned rows and plan again sync-cancelled ones, in one transaction.

    Returns how many were cancelled and restored (a row claimed meanwhile is not).
    """
    untried = col(Publication.attempts) == 0
    cancelling = (
        update(Publication)
        .where(col(Publication.status) == Status.PLANNED.value, untried)
        .values(status=Status.CANCELLED.value, error=CANCELLED_BY_SYNC, updated_at=now)
    )
    restoring = (
        update(Publication)
        .where(
            col(Publication.status) == Status.CANCELLED.value,
            col(Publication.error) == CANCELLED_BY_SYNC,
            untried,
        )
        .values(status=Status.PLANNED.value, error=None, updated_at=now)
    )
    with Session(store.engine) as session:
        cancelled = update_chunked(session, cancelling, cancel)
        restored = update_chunked(session, restoring, restore)
        session.commit()
    return cancelled, restored


def save_planned_until(
    store: Store,
    until: Mapping[str, datetime],
    known: Mapping[str, EntryPlan],
    now: datetime,
    definitions: Mapping[str, str] | None = None,
) -> None:
    """Remember how far each entry is planned, and the definitions it was planned from.

    ``known`` is what the store held before; ``definitions`` names only the entries
    whose stored definition is to change (those just synced).
    """
    definitions = definitions or {}
    new = [
        {
            "entry": entry,
            "first_seen_at": now,
            "planned_until": moment,
            "definition": definitions.get(entry),
        }
        for entry, moment in until.items()
        if entry not in known
    ]
    later: dict[datetime, list[str]] = defaultdict(list)  # one moment for all, as a rule
    for entry, moment in until.items():
        if entry in known and moment > utc_read(known[entry].planned_until):
            later[moment].append(entry)
    redefined = [
        {"key": entry, "value": value}
        for entry, value in definitions.items()
        if entry in known and known[entry].definition != value
    ]
    with Session(store.engine) as session:
        for chunk in chunked(new):
            insert_new(session, EntryState.__table__, chunk, ["entry"])  # type: ignore[attr-defined]
        # a statement per chunk of entries, not per entry: 50,000 took 0.36 s, now 0.18 s
        for moment, entries in later.items():
            for names in chunked(sorted(entries)):
                extended = update(EntryState).where(col(EntryState.entry).in_(names))
                session.execute(extended.values(planned_until=moment))
        if redefined:
            session.connection().execute(_state_update(definition="value"), redefined)
        session.commit()


def _state_update(**columns: str) -> Any:
    """An ``entry_state`` update by entry, of each column from the parameter named."""
    values: dict[str, Any] = {column: bindparam(name) for column, name in columns.items()}
    return update(EntryState).where(col(EntryState.entry) == bindparam("key")).values(**values)


def next_due_after(store: Store, moment: datetime) -> datetime | None:
    """When the first planned row due after ``moment`` is due (an index range, however many)."""
    query = sa_select(func.min(col(Publication.due_at))).where(
        col(Publication.status) == Status.PLANNED.value, col(Publication.due_at) > moment
    )
    with Session(store.engine) as session:
        value = session.execute(query).scalar()
    return None if value is None else utc_read(value)
