"""What a connector's error does to a publication, and to its account.

``Rejected`` fails it, ``AuthError`` fails it and holds the account, ``RateLimited``
pauses the account and plans it again, ``Transient`` retries with backoff, ``Unknown``
goes to reconciliation (:mod:`crosspost.publishing.reconcile`); a thread whose first
parts went out is recorded as published, with a note.
"""

from __future__ import annotations

import logging
import random
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from connectors.base import (
    AuthError,
    ConnectorError,
    RateLimited,
    Rejected,
    RenderedPost,
    Transient,
    Unknown,
)
from crosspost.loading.accounts import settings_hash
from crosspost.publishing.outcome import Outcome, outcome_of, sent_from
from crosspost.status import Status
from crosspost.store import Publication, Requeued
from crosspost.store.account_state import hold_account
from crosspost.store.claims import PUBLISH, pause_account

if TYPE_CHECKING:
    from crosspost.publishing.publisher import Publisher

__all__ = ["Failures"]

# the publisher's logger: its records read as they did before this part moved out
log = logging.getLogger("crosspost.publishing.publisher")


class Failures:
    """Records a publication whose send raised, by what the connector said."""

    def __init__(self, publisher: Publisher) -> None:
        self.publisher = publisher
        self._random = random.Random()

    def handle(
        self, row: Publication, post: RenderedPost, key: str, error: ConnectorError
    ) -> Outcome:
        """Record what ``error``, raised by sending ``post``, means for ``row``."""
        publisher = self.publisher
        if error.partial is not None:
            note = f"thread incomplete, later parts failed: {error}"
            return publisher.record(row, sent_from(error.partial, post, note))
        if isinstance(error, RateLimited):
            return self._rate_limited(row, error)
        if isinstance(error, AuthError):
            self._hold(row.account, str(error))
            log.error("account %s needs new credentials: %s", row.account, error)
            return replace(publisher.record_failure(row, str(error)), cause="credentials")
        if isinstance(error, Transient):
            return self.retry_or_fail(row, error)
        if isinstance(error, Unknown):
            return publisher.reconciler.after_unknown(row, post, key, str(error))
        assert isinstance(error, Rejected)
        return publisher.record_failure(row, str(error))

    def _hold(self, account: str, reason: str) -> None:
        publisher = self.publisher
        publisher.held[account] = reason
        digest = settings_hash(publisher.project.accounts[account])
        hold_account(publisher.store, account, reason, digest, publisher.clock())

    def _rate_limited(self, row: Publication, error: RateLimited) -> Outcome:
        assert row.id is not None
        publisher = self.publisher
        publisher.paused[row.account] = error.retry_at
        pause_account(publisher.store, row.account, PUBLISH, error.retry_at, str(error))
        log.warning("%s is rate limited until %s", row.account, error.retry_at.isoformat())
        later = Requeued(error.retry_at, str(error), undo_attempt=True)
        publisher.store.finish(row.id, publisher.worker_id, publisher.clock(), later)
        return outcome_of(row, Status.PLANNED, error=str(error))

    def retry_or_fail(self, row: Publication, error: ConnectorError) -> Outcome:
        """Plan ``row`` again after a backoff, or fail it after ``max_attempts``."""
        assert row.id is not None
        publisher = self.publisher
        if row.attempts >= publisher.max_attempts:
            return publisher.record_failure(row, f"gave up after {row.attempts} attempts: {error}")
        delay = self._backoff(row.attempts)
        log.warning(
            "%s for %s failed (%s); retrying in %ss",
            row.entry,
            row.account,
            error,
            int(delay.total_seconds()),
        )
        return publisher.record(row, Requeued(publisher.clock() + delay, str(error)))

    def _backoff(self, attempts: int) -> timedelta:
        publisher = self.publisher
        base = publisher.backoff.total_seconds() * 2 ** max(attempts - 1, 0)
        jittered = base * self._random.uniform(0.5, 1.5)
        return timedelta(seconds=min(jittered, publisher.max_backoff.total_seconds()))
