"""Leasing due publications to workers, and taking back what ran out.

A claim sets the row ``publishing`` under a worker's lease; on PostgreSQL it
skips rows another daemon is claiming at that moment (``FOR UPDATE SKIP
LOCKED``), on SQLite the write transaction (``BEGIN IMMEDIATE``) makes it
atomic. Rows whose time or lease ran out leave ``planned`` or ``publishing`` here
too, each with the reason a person reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, func, or_, update
from sqlmodel import col, select

from crosspost.status import Status
from crosspost.store.conditions import begun, due, held_by, in_flight
from crosspost.store.db import is_sqlite
from crosspost.store.lease import Holder
from crosspost.store.models import Publication
from crosspost.store.sessions import session_on

__all__ = [
    "claim",
    "claim_due",
    "claim_next",
    "expire_leases",
    "expire_missed",
    "start_sending",
    "take_lease",
]


def expire_missed(engine: Engine, now: datetime) -> list[Publication]:
    """Planned, never-tried (and not begun) rows and unapproved ones past their grace:
    they become ``missed``."""
    condition = and_(
        col(Publication.status) == Status.PLANNED,
        # implied by the next line (grace is never negative); it keeps the index
        # range to past-due rows instead of every planned row, each round
        col(Publication.due_at) < now,
        col(Publication.attempts) == 0,
        col(Publication.expires_at) < now,
        ~begun(),
    )
    missed = _transition(
        engine,
        condition,
        Status.MISSED,
        now,
        "its time passed while crosspost was not running (later than the entry's grace allows)",
    )
    unapproved = and_(
        col(Publication.status) == Status.AWAITING_APPROVAL,
        col(Publication.due_at) < now,
        col(Publication.expires_at) < now,
    )
    return missed + _transition(
        engine,
        unapproved,
        Status.MISSED,
        now,
        "its content was not approved before its time (and the entry's grace) passed",
    )


def expire_leases(engine: Engine, now: datetime, gone: Iterable[str]) -> list[Publication]:
    """Hand back unsent rows whose lease is over (or whose holder is ``gone``) as
    ``planned``; the rest become ``unknown``, which are returned."""
    expired = and_(
        col(Publication.status) == Status.PUBLISHING,
        or_(
            col(Publication.claimed_until) < now,
            col(Publication.claimed_by).in_(list(gone)),
        ),
    )
    _unclaim_unsent(engine, and_(expired, col(Publication.send_started_at).is_(None)), now)
    return _transition(
        engine,
        expired,
        Status.UNKNOWN,
        now,
        "the worker stopped while publishing; it may have gone out",
    )


def _unclaim_unsent(engine: Engine, condition: Any, now: datetime) -> None:
    statement = (
        update(Publication)
        .where(condition)
        .values(
            status=Status.PLANNED,
            claimed_by=None,
            claimed_until=None,
            attempts=col(Publication.attempts) - 1,
            updated_at=now,
        )
    )
    with session_on(engine) as session:
        session.execute(statement)
        session.commit()


def _transition(
    engine: Engine, condition: Any, status: Status, now: datetime, error: str
) -> list[Publication]:
    query = select(Publication).where(condition)
    if not is_sqlite(engine):
        query = query.with_for_update(skip_locked=True)
    with session_on(engine) as session:
        rows = list(session.exec(query).all())
        for row in rows:
            row.status, row.updated_at, row.error = status, now, error
            row.claimed_until = row.claimed_by = None
            session.add(row)
        session.commit()
    return rows


def start_sending(
    engine: Engine, publication_id: int, worker: str, now: datetime, lease: timedelta
) -> bool:
    """Mark the row as sending and renew its lease; False if ``worker`` no longer holds it."""
    statement = (
        update(Publication)
        .where(*held_by(publication_id, worker))
        .values(send_started_at=now, claimed_until=now + lease, updated_at=now)
    )
    with session_on(engine) as session:
        result = session.execute(statement)
        session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def claim_due(
    engine: Engine,
    now: datetime,
    worker: str,
    lease: timedelta,
    limit: int,
    skip_accounts: Iterable[str],
    holder: Holder | None,
) -> list[Publication]:
    """Lease up to ``limit`` due publications to ``worker``, oldest first."""
    query = (
        select(Publication)
        .where(*due(now, skip_accounts))
        .order_by(col(Publication.due_at), col(Publication.id))
        .limit(limit)
    )
    return _lease(engine, query, worker, lease, now, holder)


def claim_next(
    engine: Engine,
    now: datetime,
    worker: str,
    lease: timedelta,
    skip_accounts: Iterable[str],
    account: str | None,
    holder: Holder | None,
    sending: int = 0,
    limit: int | None = None,
) -> list[Publication]:
    """Lease the oldest due publication of every account (of ``account`` only, if given)
    that has none in flight, of the ``limit`` accounts whose is oldest (None: of all);
    the first ``sending`` of them are marked as sending too."""
    conditions = [*due(now, skip_accounts), ~in_flight()]
    if account is not None:
        conditions.append(col(Publication.account) == account)
    rank = (
        func.row_number()
        .over(
            partition_by=col(Publication.account),
            order_by=(col(Publication.due_at), col(Publication.id)),
        )
        .label("rank")
    )
    ranked = select(col(Publication.id), rank).where(*conditions).subquery()
    # Ranked once: PostgreSQL's statistics lag a plan's bulk insert, and with them
    # it ranked every due row again for each due row (0.4-1.2 s for 2,000-4,000).
    first = select(ranked.c.id).where(ranked.c.rank == 1).cte("first_due")
    first = first.prefix_with("MATERIALIZED")
    query = select(Publication).where(col(Publication.id).in_(select(first.c.id)), *conditions)
    query = query.order_by(col(Publication.due_at), col(Publication.id))
    if limit is not None:
        query = query.limit(limit)
    return _lease(engine, query, worker, lease, now, holder, sending)


def claim(
    engine: Engine,
    publication_id: int,
    worker: str,
    lease: timedelta,
    now: datetime,
    holder: Holder | None,
) -> Publication | None:
    """Lease one planned publication to ``worker``; None if it is not planned."""
    query = select(Publication).where(
        col(Publication.id) == publication_id,
        col(Publication.status) == Status.PLANNED,
    )
    rows = _lease(engine, query, worker, lease, now, holder)
    return rows[0] if rows else None


def _lease(
    engine: Engine,
    query: Any,
    worker: str,
    lease: timedelta,
    now: datetime,
    holder: Holder | None,
    sending: int = 0,
) -> list[Publication]:
    if not is_sqlite(engine):
        query = query.with_for_update(skip_locked=True)
    with session_on(engine) as session:
        rows = list(session.exec(query).all())
        for index, row in enumerate(rows):
            take_lease(row, worker, now + lease, now, holder, sending=index < sending)
            session.add(row)
        session.commit()
    return rows


def take_lease(
    row: Publication,
    worker: str,
    until: datetime,
    now: datetime,
    holder: Holder | None,
    *,
    sending: bool = False,
) -> None:
    """Set ``row`` (loaded, not yet written) ``publishing`` under ``worker``'s lease; with
    ``sending``, marked as sending too (its request leaves right after the commit)."""
    row.status = Status.PUBLISHING
    row.claimed_by, row.claimed_until = worker, until
    row.send_started_at = now if sending else None
    row.attempts += 1
    row.updated_at = now
    if holder is not None:
        row.claimed_host, row.claimed_pid = holder.host, holder.pid
        row.claimed_process_start = holder.process_start
