"""The limits each account's server reported, kept across runs so every command counts alike.

A connector that learns its server's limits (``reported_limits()``, e.g. a
Mastodon instance's ``/api/v2/instance``) has them written to the store after it
talks to the server; ``check``, ``plan``, ``publish`` and the daemon hand them
back (``use_reported_limits()``) before counting. Limits read with other settings
(another server, another token) are not used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crosspost.accounts import settings_hash
from crosspost.project import Project

if TYPE_CHECKING:  # check reads limits without a database: no SQLAlchemy at start-up
    from crosspost.store import Store
    from crosspost.store.account_state import AccountLimits

__all__ = ["LimitSource", "apply_reported_limits", "limit_sources", "remember_reported_limits"]


@dataclass(frozen=True)
class LimitSource:
    """Where the length limit of an account comes from."""

    account: str
    max_length: int
    unit: str
    #: ``reported`` (by the server, at ``reported_at``), ``configured`` or ``default``.
    source: str
    reported_at: datetime | None = None

    def describe(self) -> str:
        """``alpha: 600 characters (reported by its server at …)``."""
        if self.source == "reported" and self.reported_at is not None:
            origin = f"reported by its server at {self.reported_at:%Y-%m-%d %H:%M}Z"
        elif self.source == "configured":
            origin = "set in the account's settings"
        else:
            origin = "built-in default"
        return f"{self.account}: {self.max_length} {self.unit} ({origin})"


def remember_reported_limits(store: Store, project: Project, account: str, now: datetime) -> None:
    """Keep what ``account``'s server reported in this process, if anything."""
    from crosspost.store.account_state import remember_limits

    connector = project.connector(account)
    reported: Callable[[], Mapping[str, Any] | None] | None = getattr(
        connector, "reported_limits", None
    )
    data = reported() if reported is not None else None
    if data:
        digest = settings_hash(project.accounts[account])
        remember_limits(store, account, digest, data, now)


def apply_reported_limits(store: Store, project: Project) -> dict[str, AccountLimits]:
    """Give each connector the limits its server reported earlier; return those used."""
    from crosspost.store.account_state import stored_limits

    used = {}
    for account, row in stored_limits(store).items():
        if account not in project.accounts:
            continue
        if row.settings_hash != settings_hash(project.accounts[account]):
            continue  # read from another server or with another token
        use: Callable[[Mapping[str, Any]], None] | None = getattr(
            project.connector(account), "use_reported_limits", None
        )
        if use is not None:
            use(row.limits)
            used[account] = row
    return used


def limit_sources(project: Project, used: Mapping[str, AccountLimits]) -> list[LimitSource]:
    """Each account's length limit and where it comes from."""
    sources = []
    for account in sorted(project.accounts):
        connector = project.connector(account)
        limits = connector.effective_limits
        if account in used:
            source, at = "reported", used[account].reported_at
        elif limits != connector.limits:
            source, at = "configured", None
        else:
            source, at = "default", None
        sources.append(LimitSource(account, limits.max_length, limits.unit, source, at))
    return sources
