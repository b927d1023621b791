"""Account state that outlives a process: credential holds and the limits a server reported.

Every function takes a :class:`~crosspost.store.Store`; times returned are
timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from crosspost.store import Store
from crosspost.store.models import AccountHold, AccountLimits
from crosspost.store.sessions import session_on, utc

__all__ = [
    "LimitsReport",
    "hold_account",
    "holds",
    "lift_changed_holds",
    "lift_hold",
    "remember_limits",
    "stored_limits",
]


def hold_account(store: Store, account: str, reason: str, digest: str, now: datetime) -> None:
    """Hold ``account`` (its credentials failed); a held account's posts are not tried."""
    with session_on(store.engine) as session:
        hold = session.get(AccountHold, account)
        if hold is None:
            hold = AccountHold(account=account, reason=reason, settings_hash=digest, since=now)
        hold.reason, hold.settings_hash = reason, digest
        session.add(hold)
        session.commit()


def holds(store: Store) -> list[AccountHold]:
    """Every held account, oldest hold first."""
    with session_on(store.engine) as session:
        rows = list(session.exec(select(AccountHold).order_by(col(AccountHold.since))).all())
    for row in rows:
        row.since = utc(row.since)
    return rows


def lift_hold(store: Store, account: str) -> bool:
    """Lift the hold of ``account``; False if it was not held."""
    with session_on(store.engine) as session:
        hold = session.get(AccountHold, account)
        if hold is None:
            return False
        session.delete(hold)
        session.commit()
    return True


def lift_changed_holds(
    store: Store, digests: Mapping[str, str], held: Sequence[AccountHold] | None = None
) -> list[str]:
    """Lift the holds of accounts whose settings hash is no longer the held one, of
    ``held`` (as :func:`holds` read them) or else of every hold in the store.

    Accounts missing from ``digests`` (removed from the schedule) stay held.
    """
    lifted = [
        hold.account
        for hold in (holds(store) if held is None else held)
        if hold.account in digests and digests[hold.account] != hold.settings_hash
    ]
    for account in lifted:
        lift_hold(store, account)
    return lifted


@dataclass(frozen=True)
class LimitsReport:
    """What :func:`remember_limits` writes: the limits ``account``'s server reported, read
    with the settings of digest ``settings_hash``, at ``reported_at``."""

    account: str
    settings_hash: str
    limits: Mapping[str, Any]
    reported_at: datetime


def remember_limits(
    store: Store, account: str, digest: str, limits: Mapping[str, Any], now: datetime
) -> bool:
    """Store the limits ``account``'s server reported; False when they were known already."""
    with session_on(store.engine) as session:
        row = session.get(AccountLimits, account)
        if row is not None and row.settings_hash == digest and row.limits == dict(limits):
            return False
        row = row or AccountLimits(
            account=account, settings_hash=digest, limits=dict(limits), reported_at=now
        )
        row.settings_hash, row.limits, row.reported_at = digest, dict(limits), now
        session.add(row)
        session.commit()
    return True


def stored_limits(store: Store) -> dict[str, AccountLimits]:
    """The last reported limits of every account that has some."""
    with session_on(store.engine) as session:
        rows = list(session.exec(select(AccountLimits)).all())
    for row in rows:
        row.reported_at = utc(row.reported_at)
    return {row.account: row for row in rows}
