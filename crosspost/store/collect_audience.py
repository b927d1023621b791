"""Queries behind audience collection: the accounts' snapshots and their follower sets.

Every function takes a :class:`~crosspost.store.Store`; times returned are
timezone-aware UTC. The collector reads the follower list from the platform first and
writes what changed in one short transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from connectors.base import FollowerRef
from crosspost.history import chunked
from crosspost.store import Store
from crosspost.store.models import AccountSnapshot, Follower, FollowerEvent, FollowerList
from crosspost.store.sessions import session_on, table_of, utc

__all__ = ["FollowerDiff", "apply_followers", "last_account_snapshots"]


@dataclass(frozen=True)
class FollowerDiff:
    """What changed in an account's follower set."""

    joins: list[FollowerRef] = field(default_factory=list)
    leaves: list[FollowerRef] = field(default_factory=list)
    #: The first list ever seen for the account: stored, no events written.
    seeded: bool = False


#: Bound the bound parameters of one statement (SQLite allows 32,766).
_IDS_PER_STATEMENT = 5000


def last_account_snapshots(store: Store) -> dict[str, datetime]:
    """When each account's newest audience snapshot was taken."""
    query = select(AccountSnapshot.account, func.max(AccountSnapshot.collected_at)).group_by(
        col(AccountSnapshot.account)
    )
    with session_on(store.engine) as session:
        return {account: utc(last) for account, last in session.exec(query).all() if last}


def apply_followers(
    store: Store, account: str, followers: Sequence[FollowerRef], now: datetime
) -> FollowerDiff:
    """Compare ``followers`` with the known set, record joins and leaves, store the new set.

    The first list ever read for an account only seeds the set: everyone in it
    was already following, so no join is recorded. Whether a list was read before
    is recorded (``follower_list``), never inferred from an empty set: an account
    with no followers, or with none left, counts its next followers as joins.
    Everything is written in one transaction, joins, leaves and events as bulk statements.
    """
    now = utc(now)
    current = {ref.id: ref for ref in followers}
    table = table_of(Follower)
    with session_on(store.engine) as session:
        listed = session.get(FollowerList, account)
        seeded = listed is None
        known_query = sa_select(table.c.follower_id, table.c.handle).where(
            table.c.account == account
        )
        known: dict[str, str] = {fid: handle for fid, handle in session.execute(known_query)}
        joins = [ref for fid, ref in current.items() if fid not in known]
        leaves = [FollowerRef(fid, handle) for fid, handle in known.items() if fid not in current]
        if joins:
            session.execute(insert(table), [_follower(account, ref, now) for ref in joins])
        for chunk in chunked([ref.id for ref in leaves], _IDS_PER_STATEMENT):
            session.execute(
                delete(table).where(table.c.account == account, table.c.follower_id.in_(chunk))
            )
        if listed is None:
            listed = FollowerList(account=account, first_listed_at=now, last_listed_at=now)
        else:
            events = _events(account, joins, "join", now) + _events(account, leaves, "leave", now)
            if events:
                session.execute(insert(table_of(FollowerEvent)), events)
        listed.last_listed_at = now
        session.add(listed)
        session.commit()
    return FollowerDiff([] if seeded else joins, [] if seeded else leaves, seeded)


def _follower(account: str, ref: FollowerRef, now: datetime) -> dict[str, Any]:
    return {"account": account, "follower_id": ref.id, "handle": ref.handle, "first_seen_at": now}


def _events(
    account: str, refs: Iterable[FollowerRef], kind: str, now: datetime
) -> list[dict[str, Any]]:
    return [
        {
            "account": account,
            "follower_id": ref.id,
            "handle": ref.handle,
            "kind": kind,
            "observed_at": now,
        }
        for ref in refs
    ]
