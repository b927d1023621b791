"""What a collection round did: per account, and for the whole round.

:class:`~crosspost.collecting.metrics.MetricsCollector` fills one
:class:`AccountOutcome` per account it worked on; the CLI prints the
:class:`CollectReport` (or writes it as JSON) and exits 1 when every account failed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["AccountOutcome", "CollectReport"]


@dataclass
class AccountOutcome:
    """What one round did for one account."""

    account: str
    #: Metric snapshots written.
    posts: int = 0
    #: Unchanged snapshots dropped.
    thinned: int = 0
    #: Whether an audience snapshot was written.
    account_snapshot: bool = False
    joins: int = 0
    leaves: int = 0
    #: New interactions stored.
    interactions: int = 0
    #: Each step that failed this round (``post metrics``, ``account figures``,
    #: ``followers``, ``inbox``, or ``connector``) and why; the other steps ran.
    errors: dict[str, str] = field(default_factory=dict)
    #: The failures in one line, None when every step worked.
    error: str | None = None
    #: When a rate-limited account is tried again.
    retry_at: datetime | None = None

    @property
    def failed(self) -> bool:
        """Whether a step of the account's work failed."""
        return self.error is not None

    def fail(self, step: str, message: str) -> None:
        """Record that ``step`` failed with ``message``."""
        self.errors[step] = message
        self.error = "; ".join(f"{name}: {why}" for name, why in self.errors.items())


@dataclass
class CollectReport:
    """What a round collected, for printing and for ``--json``."""

    started_at: datetime
    accounts: list[AccountOutcome] = field(default_factory=list)

    @property
    def all_failed(self) -> bool:
        """Every account that had work failed (the CLI exits 1)."""
        return bool(self.accounts) and all(outcome.failed for outcome in self.accounts)

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready values (times as ISO 8601)."""
        return {
            "started_at": self.started_at.isoformat(),
            "accounts": [
                {**asdict(o), "retry_at": o.retry_at.isoformat() if o.retry_at else None}
                for o in self.accounts
            ],
        }
