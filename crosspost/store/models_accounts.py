"""The accounts' tables: how the daemons share an account's work, holds and reported limits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

__all__ = [
    "AccountClaim",
    "AccountHold",
    "AccountLimits",
]


class AccountClaim(SQLModel, table=True):
    """One kind of an account's work (``collect``, ``publish``) as the daemons share it.

    A daemon leases the row before it works on the account (``crosspost.store.claims``);
    a rate limit the platform reported pauses the work for every daemon. Kind ``feed``
    leases fetching a feed: ``account`` then holds the feed's id.
    """

    __tablename__ = "account_claim"

    account: str = Field(primary_key=True)
    kind: str = Field(primary_key=True)
    #: The worker holding the lease (None: free).
    claimed_by: str | None = None
    claimed_until: datetime | None = None
    #: No daemon does this work for the account before then.
    paused_until: datetime | None = None
    paused_reason: str | None = None


class AccountHold(SQLModel, table=True):
    """An account whose credentials failed: none of its posts are tried until it is lifted.

    Lifted when the account's settings (``settings_hash``) change, or by
    ``crosspost resolve --account NAME --retry``.
    """

    __tablename__ = "account_hold"

    account: str = Field(primary_key=True)
    reason: str
    #: Hash of the account's settings when it was held (see ``accounts.settings_hash``).
    settings_hash: str
    since: datetime


class AccountLimits(SQLModel, table=True):
    """The limits an account's server last reported (e.g. a Mastodon instance's)."""

    __tablename__ = "account_limits"

    account: str = Field(primary_key=True)
    #: Settings they were read with: another server or token may report others.
    settings_hash: str
    limits: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    reported_at: datetime
