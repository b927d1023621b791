"""The limits each account's server reported, kept across runs so every command counts alike.

A connector that learns its server's limits (``reported_limits()``, e.g. a
Mastodon instance's ``/api/v2/instance``) has them written to the store after it
talks to the server; ``check``, ``plan``, ``publish`` and the daemon hand them
back (``use_reported_limits()``) before counting. Limits read with other settings
(another server, another token) are not used. Where each account's limit comes from
is :mod:`crosspost.loading.limit_sources`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from connectors.base import ReportsLimits
from crosspost.history import read_only, sqlite_path, stored_utc
from crosspost.loading.accounts import settings_hash
from crosspost.loading.project import Project

if TYPE_CHECKING:  # check reads limits without SQLAlchemy: see read_reported_limits
    from crosspost.store import Store

__all__ = [
    "ReportedLimits",
    "apply_limits",
    "apply_reported_limits",
    "read_reported_limits",
    "remember_reported_limits",
    "server_limits",
]


@dataclass(frozen=True)
class ReportedLimits:
    """What an account's server last reported, as the store keeps it."""

    account: str
    #: Settings they were read with: another server or token may report others.
    settings_hash: str
    limits: Mapping[str, Any]
    reported_at: datetime


def server_limits(project: Project, account: str) -> Mapping[str, object] | None:
    """What ``account``'s server reported of its limits in this process, if anything."""
    connector = project.connector(account)
    return connector.reported_limits() if isinstance(connector, ReportsLimits) else None


def remember_reported_limits(store: Store, project: Project, account: str, now: datetime) -> None:
    """Keep what ``account``'s server reported in this process, if anything."""
    from crosspost.store.account_state import remember_limits

    data = server_limits(project, account)
    if data:
        digest = settings_hash(project.accounts[account])
        remember_limits(store, account, digest, data, now)


def apply_reported_limits(store: Store, project: Project) -> dict[str, ReportedLimits]:
    """Give each connector the limits its server reported earlier; return those used."""
    from crosspost.store.account_state import stored_limits

    rows = {
        name: ReportedLimits(name, row.settings_hash, row.limits, row.reported_at)
        for name, row in stored_limits(store).items()
    }
    return apply_limits(project, rows)


def read_reported_limits(url: str) -> dict[str, ReportedLimits] | None:
    """The stored limits of a SQLite file, read with the standard library alone.

    ``check`` needs one small table: opening the store would import SQLAlchemy and
    the ORM models, most of its start-up time. A database that does not have the
    table yet (written by an older crosspost) has no limits. Nothing is written or
    migrated.

    Returns:
        The rows by account, or None when ``url`` is not a SQLite file (open the store).

    Raises:
        sqlite3.Error: the file cannot be read as a database.
    """
    path = sqlite_path(url)
    if path is None:
        return None
    if not path.is_file():
        return {}
    connection = read_only(path)
    try:
        known = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'account_limits'"
        ).fetchone()
        if known is None:
            return {}
        query = "SELECT account, settings_hash, limits, reported_at FROM account_limits"
        rows = connection.execute(query).fetchall()
    finally:
        connection.close()
    return {
        account: ReportedLimits(account, digest, json.loads(limits), stored_utc(reported_at))
        for account, digest, limits, reported_at in rows
    }


def apply_limits(project: Project, rows: Mapping[str, ReportedLimits]) -> dict[str, ReportedLimits]:
    """Give each connector the limits of ``rows`` read with its settings; return those used."""
    used = {}
    for account, row in rows.items():
        if account not in project.accounts:
            continue
        if row.settings_hash != settings_hash(project.accounts[account]):
            continue  # read from another server or with another token
        connector = project.connector(account)
        if isinstance(connector, ReportsLimits):
            connector.use_reported_limits(row.limits)
            used[account] = row
    return used
