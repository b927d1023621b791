"""Where each account's length limit comes from: its server, its settings or the default.

``check`` says so for every account, and ``doctor`` for the one it diagnoses. A project
with no store has no reported limits, and ``check`` of it does not import
:mod:`crosspost.loading.limits`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from crosspost.loading.project import Project

if TYPE_CHECKING:
    from crosspost.loading.limits import ReportedLimits

__all__ = ["LimitSource", "limit_sources"]


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


def limit_sources(project: Project, used: Mapping[str, ReportedLimits]) -> list[LimitSource]:
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
