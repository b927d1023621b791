"""What was due and did not go out, and when it will be tried again.

``daemon --once`` and ``publish`` exit 1 when anything due is left over, and say
why and when (a retry time, a credentials hold, the account's pacing), so that
cron mail and scripts notice an outage instead of reading a silent 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from crosspost.status import Status
from crosspost.store import Publication, Store
from crosspost.store.sessions import utc

__all__ = ["Waiting", "due_not_sent", "waiting_for"]


@dataclass(frozen=True)
class Waiting:
    """A due publication that did not go out in this run."""

    publication_id: int
    entry: str
    account: str
    reason: str
    #: When it will be tried again; None when a person must act first (a hold).
    retry_at: datetime | None

    def describe(self) -> str:
        """One line: what, why, and when it is tried again."""
        when = (
            f"retried from {self.retry_at:%Y-%m-%d %H:%M}Z"
            if self.retry_at is not None
            else "held until a person acts"
        )
        return f"{self.entry} → {self.account}: not sent yet ({self.reason}); {when}"


def waiting_for(row: Publication, now: datetime, held: Mapping[str, str]) -> Waiting:
    """Why the planned ``row`` is still waiting, and until when."""
    assert row.id is not None
    if row.status == Status.AWAITING_APPROVAL:
        expires = utc(row.expires_at)
        note = row.error or "awaiting approval"
        reason = f"{note}; missed unless approved by {expires:%Y-%m-%d %H:%M}Z"
        return Waiting(row.id, row.entry, row.account, reason, None)
    if row.account in held:
        reason = (
            f"the account is held since its credentials failed: {held[row.account]}; "
            f"fix its settings or run crosspost resolve --account {row.account} --retry"
        )
        return Waiting(row.id, row.entry, row.account, reason, None)
    retry_at = utc(row.next_attempt_at) if row.next_attempt_at else None
    if retry_at is not None and retry_at > now:
        return Waiting(row.id, row.entry, row.account, row.error or "waiting to retry", retry_at)
    reason = "held back by the account's pacing (min_interval, max_per_day) or a busy run"
    return Waiting(row.id, row.entry, row.account, reason, now)


def due_not_sent(store: Store, now: datetime, held: Mapping[str, str]) -> list[Waiting]:
    """Every planned publication whose time has come and that is still not out, and every
    one due that awaits approval (until its grace passes; then it is missed)."""
    until = now + timedelta(microseconds=1)
    rows = store.publications([Status.PLANNED, Status.AWAITING_APPROVAL], until=until)
    return [waiting_for(row, now, held) for row in rows]
