"""Queries behind the audience and community figures of ``crosspost report``.

Follower counts and their joins and leaves, and what members wrote to the accounts.
Every function takes a :class:`~crosspost.store.Store` and returns plain values;
all times returned are timezone-aware UTC.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlmodel import col
from sqlmodel import select as select_model

from crosspost.report_rows import FollowerPoint, InteractionRow
from crosspost.store import Store
from crosspost.store.models import AccountSnapshot, FollowerEvent, Interaction
from crosspost.store.sessions import session_on, utc

__all__ = [
    "account_snapshots",
    "follower_event_counts",
    "interactions",
]


_FOLLOWER_COLUMNS: tuple[Any, ...] = (
    col(AccountSnapshot.account),
    col(AccountSnapshot.collected_at),
    col(AccountSnapshot.followers),
)


def account_snapshots(
    store: Store, accounts: Sequence[str], since: datetime | None, until: datetime | None
) -> dict[str, list[FollowerPoint]]:
    """Follower counts per account in ``[since, until)``, oldest first, each series led by
    the latest count before ``since`` (the baseline), when there is one."""
    counted = and_(
        col(AccountSnapshot.account).in_(list(accounts)),
        col(AccountSnapshot.followers).is_not(None),
    )
    period = select(*_FOLLOWER_COLUMNS).where(counted)
    if since is not None:
        period = period.where(col(AccountSnapshot.collected_at) >= since)
    if until is not None:
        period = period.where(col(AccountSnapshot.collected_at) < until)
    period = period.order_by(col(AccountSnapshot.collected_at), col(AccountSnapshot.id))
    found: dict[str, list[FollowerPoint]] = defaultdict(list)
    with store.engine.connect() as connection:
        if since is not None:
            for account, at, followers in connection.execute(_baselines(counted, since)):
                found[account].append(FollowerPoint(account, utc(at), followers))
        for account, at, followers in connection.execute(period):
            found[account].append(FollowerPoint(account, utc(at), followers))
    return dict(found)


def _baselines(counted: Any, since: datetime) -> Any:
    """The latest follower count of each account before ``since``."""
    order = (col(AccountSnapshot.collected_at).desc(), col(AccountSnapshot.id).desc())
    ranked = (
        select(
            *_FOLLOWER_COLUMNS,
            func.row_number()
            .over(partition_by=col(AccountSnapshot.account), order_by=order)
            .label("n"),
        )
        .where(counted, col(AccountSnapshot.collected_at) < since)
        .subquery()
    )
    return select(ranked.c.account, ranked.c.collected_at, ranked.c.followers).where(
        ranked.c.n == 1
    )


def follower_event_counts(
    store: Store, accounts: Sequence[str], since: datetime | None, until: datetime | None
) -> dict[str, dict[str, int]]:
    """Joins and leaves per account in ``[since, until)``: ``{account: {"join": n, ...}}``."""
    query = select_model(FollowerEvent.account, FollowerEvent.kind, func.count()).where(
        col(FollowerEvent.account).in_(list(accounts))
    )
    if since is not None:
        query = query.where(col(FollowerEvent.observed_at) >= since)
    if until is not None:
        query = query.where(col(FollowerEvent.observed_at) < until)
    query = query.group_by(FollowerEvent.account, FollowerEvent.kind)
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    with session_on(store.engine) as session:
        for account, kind, number in session.exec(query).all():
            counts[account][kind] = number
    return dict(counts)


def interactions(
    store: Store, accounts: Sequence[str], since: datetime | None, until: datetime | None
) -> list[InteractionRow]:
    """Member-written content received by the accounts in ``[since, until)``, oldest first."""
    query = select(
        col(Interaction.account),
        col(Interaction.platform),
        col(Interaction.kind),
        col(Interaction.author),
        col(Interaction.created_at),
    ).where(col(Interaction.account).in_(list(accounts)))
    if since is not None:
        query = query.where(col(Interaction.created_at) >= since)
    if until is not None:
        query = query.where(col(Interaction.created_at) < until)
    query = query.order_by(col(Interaction.created_at))
    with store.engine.connect() as connection:
        rows = connection.execute(query).all()
    return [InteractionRow(a, p, k, who, utc(at)) for a, p, k, who, at in rows]
