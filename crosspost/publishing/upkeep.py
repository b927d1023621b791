"""The publisher's upkeep before each claim: holds, leases of dead workers, missed rows.

Held accounts whose settings changed are tried again; the leases of workers of this
host that died are expired at once and their rows looked for on the platform
(:mod:`crosspost.publishing.reconcile`); rows past their grace become ``missed``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from crosspost.loading.accounts import settings_hash
from crosspost.loading.limits import apply_reported_limits
from crosspost.publishing.outcome import Outcome, outcome_of
from crosspost.status import Status
from crosspost.store.account_state import holds, lift_changed_holds
from crosspost.store.lease import Holder, LeaseRecord, gone_holders

if TYPE_CHECKING:
    from crosspost.publishing.publisher import Publisher

__all__ = ["Upkeep"]

# the publisher's logger: its records read as they did before this part moved out
log = logging.getLogger("crosspost.publishing.publisher")


class Upkeep:
    """Brings the publisher's view of holds, limits and leases up to date."""

    def __init__(self, publisher: Publisher) -> None:
        self.publisher = publisher

    def refresh_holds(self) -> None:
        """Lift holds of accounts whose settings changed; read the others from the store."""
        publisher = self.publisher
        digests = {name: settings_hash(a) for name, a in publisher.project.accounts.items()}
        held = holds(publisher.store)
        lifted = lift_changed_holds(publisher.store, digests, held)
        for account in lifted:
            log.info("the settings of %s changed: its posts are tried again", account)
        publisher.held = {hold.account: hold.reason for hold in held if hold.account not in lifted}

    def _gone_workers(self, now: datetime) -> list[str]:
        """Workers of this host that died (or went silent) while holding leases."""
        publisher = self.publisher
        holder = publisher.holder
        records = [
            LeaseRecord(worker, Holder(holder.host, pid, start), beat)
            for worker, pid, start, beat in publisher.store.lease_holders(holder.host)
            if pid is not None
        ]
        gone = gone_holders(records, holder, now, publisher.stale_after)
        for worker in gone:
            log.warning("%s is gone: its leases expire now", worker)
        return gone

    def maintain(self, now: datetime) -> list[Outcome]:
        """Holds and limits from the store, expired leases, unknown rows, rows past their grace."""
        publisher = self.publisher
        store, reconciler = publisher.store, publisher.reconciler
        self.refresh_holds()
        apply_reported_limits(store, publisher.project)
        expired = store.expire_leases(now, self._gone_workers(now))
        outcomes = [reconciler.lease_expired(row) for row in expired]
        outcomes += reconciler.look_again(now)
        for row in store.expire_missed(now):
            log.warning(
                "missed: %s %s for %s (due %s)",
                row.entry,
                row.occurrence,
                row.account,
                row.due_at.isoformat(),
            )
            outcomes.append(outcome_of(row, Status.MISSED, error=row.error))
        return outcomes
