"""Reconciliation: finding out whether a publication of unknown outcome went out.

A post whose send may or may not have reached the platform is never resent blindly:
the platform is asked (``find_recent``) when the connector can, and it is sent again
only when its idempotency key is still remembered or its steps are in the store.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from connectors.base import (
    Capability,
    ConnectorError,
    Published,
    Reconcilable,
    RenderedPost,
    Transient,
)
from crosspost.errors import ConfigError, RenderError
from crosspost.publishing.outcome import (
    Outcome,
    idempotency_key,
    outcome_of,
    sent_from,
)
from crosspost.publishing.progress import resumable
from crosspost.status import Status
from crosspost.store import Ended, Publication, Requeued
from crosspost.store.sessions import utc

if TYPE_CHECKING:
    from crosspost.publishing.publisher import Publisher

__all__ = ["RECONCILE_BATCH", "RECONCILE_EVERY", "RECONCILE_FOR", "Reconciler"]

# the publisher's logger: its records read as they did before this part moved out
log = logging.getLogger("crosspost.publishing.publisher")

#: Unknown publications are looked for again this often, for this long after they were due.
RECONCILE_EVERY = timedelta(minutes=5)
RECONCILE_FOR = timedelta(days=1)
RECONCILE_BATCH = 20


class Reconciler:
    """Looks for publications of unknown outcome on their platform, and records them."""

    def __init__(self, publisher: Publisher) -> None:
        self.publisher = publisher
        self._looked_up: dict[int, datetime] = {}

    def after_unknown(self, row: Publication, post: RenderedPost, key: str, reason: str) -> Outcome:
        """The send of ``row`` ended without an answer: look for it, resend, or say so."""
        found = self.find_existing(row, post, key)
        if found is not None:
            return self._record_found(row, found, post)
        if self._resend_is_safe(row):
            failures = self.publisher.failures
            return failures.retry_or_fail(row, Transient(f"{reason}; sent again with the same key"))
        log.error("outcome unknown for %s on %s: %s", row.entry, row.account, reason)
        return self.publisher.record(row, Ended(Status.UNKNOWN, reason))

    def _resend_is_safe(self, row: Publication) -> bool:
        """Whether the platform still remembers this publication's idempotency key.

        A resumable publication may always be sent again: its steps are in the store,
        and the connector never repeats one that may have gone out.
        """
        connector = self.publisher.project.connector(row.account)
        if resumable(connector) is not None:
            return True
        if not isinstance(connector, Reconcilable):
            return False
        window, started = connector.idempotency_window, row.send_started_at
        if window is None or started is None:
            return False
        if Capability.IDEMPOTENCY_KEY not in connector.capabilities:
            return False
        return self.publisher.clock() - utc(started) < window

    def find_existing(self, row: Publication, post: RenderedPost, key: str) -> Published | None:
        """Ask the platform whether this publication went out (None when it cannot tell)."""
        connector = self.publisher.project.connector(row.account)
        if Capability.RECONCILE not in connector.capabilities:
            return None
        if not isinstance(connector, Reconcilable):
            return None
        try:
            found = connector.find_recent(key, post.text)
        except ConnectorError as error:
            log.warning("could not reconcile %s on %s: %s", row.entry, row.account, error)
            return None
        assert row.id is not None
        store = self.publisher.store
        if found is not None and store.remote_id_taken(row.account, found.remote_id, row.id):
            # the same text went out for another occurrence: that post is not this one
            return None
        return found

    def look_again(self, now: datetime) -> list[Outcome]:
        """Look again, now and then, for posts whose outcome is still unknown."""
        outcomes = []
        recent = self.publisher.store.publications([Status.UNKNOWN], since=now - RECONCILE_FOR)
        for row in recent[:RECONCILE_BATCH]:
            assert row.id is not None
            last = self._looked_up.get(row.id)
            if last is not None and now - last < RECONCILE_EVERY:
                continue
            self._looked_up[row.id] = now
            outcome = self._look_for(row)
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    def lease_expired(self, row: Publication) -> Outcome:
        """A worker died while publishing: look for the post before anyone resends it."""
        log.warning("lease expired: %s %s for %s", row.entry, row.occurrence, row.account)
        assert row.id is not None
        self._looked_up[row.id] = self.publisher.clock()
        return self._look_for(row) or outcome_of(row, Status.UNKNOWN, error=row.error)

    def _resend(self, row: Publication) -> Outcome:
        """Queue an unknown publication again: its idempotency key makes a resend harmless."""
        assert row.id is not None
        note = "not found on the platform; sending again with the same idempotency key"
        if resumable(self.publisher.project.connector(row.account)) is not None:
            note = "interrupted; resuming where it stopped (recorded steps are not sent again)"
        log.warning("%s for %s: %s", row.entry, row.account, note)
        return self.publisher.record(row, Requeued(None, note))

    def _look_for(self, row: Publication) -> Outcome | None:
        """Record an unknown publication as published if the platform has it."""
        if row.account not in self.publisher.project.accounts:
            return None
        try:
            post = self.publisher.render(row)
        except (RenderError, ConfigError, KeyError):
            return None
        found = self.find_existing(
            row, post, idempotency_key(row.entry, row.occurrence, row.account)
        )
        if found is None:
            return self._resend(row) if self._resend_is_safe(row) else None
        return self._record_found(row, found, post)

    def _record_found(self, row: Publication, found: Published, post: RenderedPost) -> Outcome:
        """Reconciliation found the post on the platform: it did go out."""
        where = found.url or found.remote_id
        log.info("reconciled %s for %s: it did go out (%s)", row.entry, row.account, where)
        return self.publisher.record(row, sent_from(found, post))
