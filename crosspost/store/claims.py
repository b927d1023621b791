"""Account work shared by several daemons: leases per account and kind, and pauses.

Publications are claimed row by row (:meth:`~crosspost.store.Store.claim_next`); the
rest of an account's work (collecting its metrics, audience and inbox) has no row
of its own, so a daemon leases the account itself, one ``account_claim`` row per
account and kind, before it reads what is due. On PostgreSQL the claim skips rows
another daemon is claiming at that moment (``FOR UPDATE SKIP LOCKED``); on SQLite
the write transaction (``BEGIN IMMEDIATE``) makes it atomic. A worker reads what is
due only after it holds the lease and writes what it collected before it lets go,
so the next holder sees the work done.

A rate limit the platform reported is written here too (``paused_until``), so
every daemon leaves the account alone until then, not only the one that was told.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import Table, or_, update
from sqlalchemy import select as sa_select

from crosspost.history import chunked
from crosspost.store import Store
from crosspost.store.db import insert_new, is_sqlite
from crosspost.store.models import AccountClaim
from crosspost.store.sessions import session_on, utc

__all__ = [
    "COLLECT",
    "FEED",
    "PUBLISH",
    "STREAM",
    "claim_accounts",
    "pause_account",
    "paused",
    "release_accounts",
]

#: The kinds of work: collecting metrics, audience and inbox; publishing; fetching a
#: feed (its row's ``account`` is then the feed's id); holding the account's
#: notification stream open.
COLLECT = "collect"
PUBLISH = "publish"
FEED = "feed"
STREAM = "stream"

#: Accounts per statement (bound parameters stay far below SQLite's limit).
_CHUNK = 1000


def _table() -> Table:
    table: Table = AccountClaim.__table__  # type: ignore[attr-defined]
    return table


def claim_accounts(
    store: Store,
    kind: str,
    accounts: Iterable[str],
    worker: str,
    now: datetime,
    lease: timedelta,
    limit: int | None = None,
) -> list[str]:
    """Lease ``kind`` work of up to ``limit`` of ``accounts`` to ``worker``, by name.

    Accounts another worker holds a live lease on, or is claiming right now, are
    left out; ``worker``'s own leases are renewed.

    Returns:
        The accounts now leased to ``worker``, sorted.
    """
    wanted = sorted(set(accounts))
    if not wanted:
        return []
    _ensure_rows(store, kind, wanted)
    table = _table()
    free = or_(
        table.c.claimed_until.is_(None),
        table.c.claimed_until < now,
        table.c.claimed_by == worker,
    )
    claimed: list[str] = []
    with session_on(store.engine) as session:
        for chunk in chunked(wanted, _CHUNK):
            room = None if limit is None else limit - len(claimed)
            if room is not None and room <= 0:
                break
            query = sa_select(table.c.account).where(
                table.c.kind == kind, table.c.account.in_(chunk), free
            )
            query = query.order_by(table.c.account).limit(room)
            if not is_sqlite(store.engine):
                query = query.with_for_update(skip_locked=True)
            names = list(session.execute(query).scalars())
            if names:
                taken = update(table).where(table.c.kind == kind, table.c.account.in_(names))
                session.execute(taken.values(claimed_by=worker, claimed_until=now + lease))
            claimed += names
        session.commit()
    return claimed


def _ensure_rows(store: Store, kind: str, accounts: list[str]) -> None:
    """Write the missing rows first, in a transaction of their own (claims then only update)."""
    table = _table()
    with session_on(store.engine) as session:
        known: set[str] = set()
        for chunk in chunked(accounts, _CHUNK):
            query = sa_select(table.c.account).where(
                table.c.kind == kind, table.c.account.in_(chunk)
            )
            known.update(session.execute(query).scalars())
        missing = [{"account": a, "kind": kind} for a in accounts if a not in known]
        for start in range(0, len(missing), _CHUNK):
            insert_new(session, table, missing[start : start + _CHUNK], ["account", "kind"])
        session.commit()


def release_accounts(store: Store, kind: str, accounts: Sequence[str], worker: str) -> None:
    """Give back ``worker``'s leases of ``accounts`` (their work is written down)."""
    table = _table()
    with session_on(store.engine) as session:
        for chunk in chunked(sorted(accounts), _CHUNK):
            statement = update(table).where(
                table.c.kind == kind,
                table.c.account.in_(chunk),
                table.c.claimed_by == worker,
            )
            session.execute(statement.values(claimed_by=None, claimed_until=None))
        session.commit()


def pause_account(store: Store, account: str, kind: str, until: datetime, reason: str) -> None:
    """Pause ``kind`` work of ``account`` until ``until`` for every daemon (a rate limit).

    A pause already reaching further stays as it is.
    """
    table = _table()
    with session_on(store.engine) as session:
        insert_new(session, table, [{"account": account, "kind": kind}], ["account", "kind"])
        later = or_(table.c.paused_until.is_(None), table.c.paused_until < until)
        statement = update(table).where(table.c.account == account, table.c.kind == kind, later)
        session.execute(statement.values(paused_until=until, paused_reason=reason))
        session.commit()


def paused(store: Store, kind: str, now: datetime) -> dict[str, datetime]:
    """The accounts whose ``kind`` work is paused after ``now``, and until when."""
    table = _table()
    query = sa_select(table.c.account, table.c.paused_until).where(
        table.c.kind == kind, table.c.paused_until > now
    )
    with session_on(store.engine) as session:
        rows = session.execute(query).all()
    return {account: utc(until) for account, until in rows if until is not None}
