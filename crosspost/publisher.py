"""Claim → publish → record: the only code that calls ``Connector.publish``.

What happens to a claimed publication, by what the connector says
(see docs/states.md for the whole state machine):

=================  =============================================================
outcome            the publication becomes
=================  =============================================================
``Published``      ``published`` with remote id and URL, in one transaction
``Rejected``       ``failed`` with the platform's reason; never retried
``AuthError``      ``failed``; the account is held (in the store, so across runs)
                   until its settings change or ``resolve --account A --retry``
``RateLimited``    ``planned`` again at ``retry_at``; the account pauses, others go on
``Transient``      ``planned`` again after exponential backoff with jitter,
                   ``failed`` after ``max_attempts``
``Unknown``        reconciled with ``find_recent`` when the connector can,
                   else ``unknown`` for a person to resolve; never resent blindly
=================  =============================================================
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import socket
import threading
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from connectors.base import (
    AuthError,
    Capability,
    ConnectorError,
    Published,
    RateLimited,
    Reconcilable,
    Rejected,
    RenderedPost,
    Transient,
    Unknown,
)
from crosspost.accounts import settings_hash
from crosspost.content import ContentItem
from crosspost.errors import ConfigError
from crosspost.lease import Holder, LeaseRecord, gone_holders, this_process
from crosspost.limits import apply_reported_limits, remember_reported_limits
from crosspost.project import Project
from crosspost.render import RenderError, text_hash
from crosspost.store import Ended, Finish, Publication, Requeued, Sent, Status, Store
from crosspost.store.account_state import hold_account, holds, lift_changed_holds
from crosspost.target import ONE_OFF_PREFIX, render_publication

__all__ = ["ONE_OFF_PREFIX", "Outcome", "Publisher", "idempotency_key"]

log = logging.getLogger(__name__)

#: Unknown publications are looked for again this often, for this long after they were due.
RECONCILE_EVERY = timedelta(minutes=5)
RECONCILE_FOR = timedelta(days=1)
RECONCILE_BATCH = 20

Clock = Callable[[], datetime]


def idempotency_key(entry: str, occurrence: str, account: str) -> str:
    """The same key for every attempt of one publication, and only for it."""
    digest = hashlib.sha256(f"{entry}\x1f{occurrence}\x1f{account}".encode()).hexdigest()
    return f"crosspost-{digest[:32]}"


@dataclass(frozen=True)
class Outcome:
    """What happened to one publication in this run."""

    publication_id: int
    entry: str
    account: str
    status: Status
    url: str | None = None
    error: str | None = None
    #: ``"credentials"`` when the account's credentials failed (reported per account).
    cause: str | None = None


class Publisher:
    """Publishes due publications of a project, one account at a time per thread.

    Args:
        store: the store.
        project: the loaded project (replace ``publisher.project`` on reload).
        clock: returns the current UTC time (injected in tests).
        lease: how long a claim is valid; a worker that dies leaves the row to reconciliation.
        max_attempts: tries for ``Transient`` failures before giving up.
        backoff: first retry delay; doubles each attempt, with jitter, up to ``max_backoff``.
        stale_after: a daemon of this host silent for longer has its leases expired at once.
    """

    def __init__(
        self,
        store: Store,
        project: Project,
        *,
        clock: Clock | None = None,
        lease: timedelta = timedelta(minutes=10),
        max_attempts: int = 5,
        backoff: timedelta = timedelta(seconds=30),
        max_backoff: timedelta = timedelta(hours=1),
        workers: int = 4,
        stale_after: timedelta = timedelta(minutes=5),
    ) -> None:
        self.store = store
        self.project = project
        self.clock = clock or (lambda: datetime.now(UTC))
        self.lease = lease
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.workers = workers
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.holder: Holder = this_process()
        self.stale_after = stale_after
        self.paused: dict[str, datetime] = {}
        self.held: dict[str, str] = {}
        self.stopping = threading.Event()
        self._random = random.Random()
        self._looked_up: dict[int, datetime] = {}

    # -- the loop body ------------------------------------------------------

    def run_due(self, limit: int = 50) -> list[Outcome]:
        """Publish what is due now; return what happened to each publication touched."""
        now = self.clock()
        outcomes = self.maintain(now)
        rows = self.store.claim_due(
            now, self.worker_id, self.lease, limit, self.blocked(now), self.holder
        )
        by_account: dict[str, list[Publication]] = defaultdict(list)
        for row in rows:
            by_account[row.account].append(row)
        if len(by_account) <= 1:
            for account_rows in by_account.values():
                outcomes += self._publish_account(account_rows)
            return outcomes
        with ThreadPoolExecutor(max_workers=min(self.workers, len(by_account))) as pool:
            for result in pool.map(self._publish_account, by_account.values()):
                outcomes += result
        return outcomes

    def refresh_holds(self) -> None:
        """Lift holds of accounts whose settings changed; read the others from the store."""
        digests = {name: settings_hash(a) for name, a in self.project.accounts.items()}
        for account in lift_changed_holds(self.store, digests):
            log.info("the settings of %s changed: its posts are tried again", account)
        self.held = {hold.account: hold.reason for hold in holds(self.store)}

    def _gone_workers(self, now: datetime) -> list[str]:
        """Workers of this host that died (or went silent) while holding leases."""
        records = [
            LeaseRecord(worker, Holder(self.holder.host, pid, start), beat)
            for worker, pid, start, beat in self.store.lease_holders(self.holder.host)
            if pid is not None
        ]
        gone = gone_holders(records, self.holder, now, self.stale_after)
        for worker in gone:
            log.warning("%s is gone: its leases expire now", worker)
        return gone

    def maintain(self, now: datetime) -> list[Outcome]:
        """Holds and limits from the store, expired leases, unknown rows, rows past their grace."""
        self.refresh_holds()
        apply_reported_limits(self.store, self.project)
        expired = self.store.expire_leases(now, self._gone_workers(now))
        outcomes = [self._lease_expired(row) for row in expired]
        outcomes += self._reconcile_unknown(now)
        for row in self.store.expire_missed(now):
            log.warning(
                "missed: %s %s for %s (due %s)",
                row.entry,
                row.occurrence,
                row.account,
                row.due_at.isoformat(),
            )
            outcomes.append(_outcome(row, Status.MISSED, error=row.error))
        return outcomes

    def may_publish(self, account: str, now: datetime) -> bool:
        """Whether ``account`` may send now (not paused, held or throttled, no stop asked)."""
        if self.stopping.is_set() or account in self.held:
            return False
        paused = self.paused.get(account)
        if paused is not None and paused > now:
            return False
        return not self._is_throttled(account, now)

    def blocked(self, now: datetime) -> list[str]:
        """Accounts that must not publish now: paused, held or throttled."""
        for account, until in list(self.paused.items()):  # in place: workers add to it
            if until <= now:
                self.paused.pop(account, None)
        return sorted(set(self.paused) | set(self.held) | self._throttled(now))

    def _throttled(self, now: datetime) -> set[str]:
        """Accounts held back by their own ``min_interval`` or ``max_per_day``."""
        return {name for name in self.project.accounts if self._is_throttled(name, now)}

    def _is_throttled(self, name: str, now: datetime) -> bool:
        account = self.project.accounts.get(name)
        if account is None:
            return False
        spacing, cap = account.spec.min_interval, account.spec.max_per_day
        if spacing is not None:
            last = self.store.last_published_at(name)
            if last is not None and now - last < spacing:
                return True
        if cap is not None:
            midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
            if self.store.published_since(name, midnight) >= cap:
                return True
        return False

    def _publish_account(self, rows: list[Publication]) -> list[Outcome]:
        outcomes = []
        for index, row in enumerate(rows):
            if (
                self.stopping.is_set()
                or row.account in self.paused
                or row.account in self.held
                or (index and self._is_throttled(row.account, self.clock()))
            ):
                outcomes += [self.release(r) for r in rows[index:]]
                break
            outcomes.append(self.publish_row(row))
        return outcomes

    def release(self, row: Publication) -> Outcome:
        """Give back a claimed row that was not tried (stop requested, account paused)."""
        assert row.id is not None
        retry_at = self.paused.get(row.account)
        handed_back = Requeued(retry_at, row.error, undo_attempt=True)
        self.store.finish(row.id, self.worker_id, self.clock(), handed_back)
        return _outcome(row, Status.PLANNED)

    # -- one publication ----------------------------------------------------

    def publish_row(self, row: Publication, item: ContentItem | None = None) -> Outcome:
        """Render, publish and record one claimed publication."""
        try:
            post = self.render(row, item)
        except (RenderError, ConfigError, KeyError) as exc:
            return self._record_failure(row, f"cannot render: {exc}")
        connector = self.project.connector(row.account)
        key = idempotency_key(row.entry, row.occurrence, row.account)
        assert row.id is not None
        row.send_started_at = self.clock()
        if not self.store.start_sending(row.id, self.worker_id, row.send_started_at, self.lease):
            log.error(
                "lost the lease on %s for %s before sending; not sent", row.entry, row.account
            )
            return _outcome(row, Status.PUBLISHING)
        try:
            published = connector.publish(post, key)
        except ConnectorError as error:
            return self._handle_error(row, post, key, error)
        finally:  # a server tells its limits with the first call, even one that fails
            remember_reported_limits(self.store, self.project, row.account, self.clock())
        return self._record(row, _sent(published, post))

    def render(self, row: Publication, item: ContentItem | None = None) -> RenderedPost:
        """The post a publication sends (:func:`crosspost.target.render_publication`).

        Raises:
            RenderError, ConfigError, KeyError: the content or template is broken or gone.
        """
        return render_publication(self.project, row, item)

    def _handle_error(
        self, row: Publication, post: RenderedPost, key: str, error: ConnectorError
    ) -> Outcome:
        if error.partial is not None:
            note = f"thread incomplete, later parts failed: {error}"
            return self._record(row, _sent(error.partial, post, note))
        if isinstance(error, RateLimited):
            return self._rate_limited(row, error)
        if isinstance(error, AuthError):
            self._hold(row.account, str(error))
            log.error("account %s needs new credentials: %s", row.account, error)
            return replace(self._record_failure(row, str(error)), cause="credentials")
        if isinstance(error, Transient):
            return self._retry_or_fail(row, error)
        if isinstance(error, Unknown):
            return self._reconcile(row, post, key, str(error))
        assert isinstance(error, Rejected)
        return self._record_failure(row, str(error))

    def _hold(self, account: str, reason: str) -> None:
        self.held[account] = reason
        digest = settings_hash(self.project.accounts[account])
        hold_account(self.store, account, reason, digest, self.clock())

    def _rate_limited(self, row: Publication, error: RateLimited) -> Outcome:
        assert row.id is not None
        self.paused[row.account] = error.retry_at
        log.warning("%s is rate limited until %s", row.account, error.retry_at.isoformat())
        later = Requeued(error.retry_at, str(error), undo_attempt=True)
        self.store.finish(row.id, self.worker_id, self.clock(), later)
        return _outcome(row, Status.PLANNED, error=str(error))

    def _retry_or_fail(self, row: Publication, error: ConnectorError) -> Outcome:
        assert row.id is not None
        if row.attempts >= self.max_attempts:
            return self._record_failure(row, f"gave up after {row.attempts} attempts: {error}")
        delay = self._backoff(row.attempts)
        log.warning(
            "%s for %s failed (%s); retrying in %ss",
            row.entry,
            row.account,
            error,
            int(delay.total_seconds()),
        )
        return self._record(row, Requeued(self.clock() + delay, str(error)))

    def _backoff(self, attempts: int) -> timedelta:
        base = self.backoff.total_seconds() * 2 ** max(attempts - 1, 0)
        jittered = base * self._random.uniform(0.5, 1.5)
        return timedelta(seconds=min(jittered, self.max_backoff.total_seconds()))

    def _reconcile(self, row: Publication, post: RenderedPost, key: str, reason: str) -> Outcome:
        found = self.find_existing(row, post, key)
        if found is not None:
            return self._record_found(row, found, post)
        if self._resend_is_safe(row):
            return self._retry_or_fail(row, Transient(f"{reason}; sent again with the same key"))
        log.error("outcome unknown for %s on %s: %s", row.entry, row.account, reason)
        return self._record(row, Ended(Status.UNKNOWN, reason))

    def _resend_is_safe(self, row: Publication) -> bool:
        """Whether the platform still remembers this publication's idempotency key."""
        connector = self.project.connector(row.account)
        if not isinstance(connector, Reconcilable):
            return False
        window, started = connector.idempotency_window, row.send_started_at
        if window is None or started is None:
            return False
        if Capability.IDEMPOTENCY_KEY not in connector.capabilities:
            return False
        return self.clock() - _as_utc(started) < window

    def find_existing(self, row: Publication, post: RenderedPost, key: str) -> Published | None:
        """Ask the platform whether this publication went out (None when it cannot tell)."""
        connector = self.project.connector(row.account)
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
        if found is not None and self.store.remote_id_taken(row.account, found.remote_id, row.id):
            # the same text went out for another occurrence: that post is not this one
            return None
        return found

    def _reconcile_unknown(self, now: datetime) -> list[Outcome]:
        """Look again, now and then, for posts whose outcome is still unknown."""
        outcomes = []
        recent = self.store.publications([Status.UNKNOWN], since=now - RECONCILE_FOR)
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

    def _lease_expired(self, row: Publication) -> Outcome:
        """A worker died while publishing: look for the post before anyone resends it."""
        log.warning("lease expired: %s %s for %s", row.entry, row.occurrence, row.account)
        assert row.id is not None
        self._looked_up[row.id] = self.clock()
        return self._look_for(row) or _outcome(row, Status.UNKNOWN, error=row.error)

    def _resend(self, row: Publication) -> Outcome:
        """Queue an unknown publication again: its idempotency key makes a resend harmless."""
        assert row.id is not None
        note = "not found on the platform; sending again with the same idempotency key"
        log.warning("%s for %s: %s", row.entry, row.account, note)
        return self._record(row, Requeued(None, note))

    def _look_for(self, row: Publication) -> Outcome | None:
        """Record an unknown publication as published if the platform has it."""
        if row.account not in self.project.accounts:
            return None
        try:
            post = self.render(row)
        except (RenderError, ConfigError, KeyError):
            return None
        found = self.find_existing(
            row, post, idempotency_key(row.entry, row.occurrence, row.account)
        )
        if found is None:
            return self._resend(row) if self._resend_is_safe(row) else None
        return self._record_found(row, found, post)

    # -- recording ----------------------------------------------------------

    def _record(self, row: Publication, outcome: Finish) -> Outcome:
        """Write ``outcome``: on our claim, or on an ``unknown`` row reconciliation looked at."""
        assert row.id is not None
        now = self.clock()
        if row.status == Status.UNKNOWN:
            recorded = self.store.settle(row.id, now, outcome)
        else:
            recorded = self.store.finish(row.id, self.worker_id, now, outcome)
        status = outcome.status
        if not recorded:
            log.error(
                "could not record %s for %s %s: its lease was lost or someone decided first",
                status,
                row.entry,
                row.account,
            )
        elif isinstance(outcome, Sent):
            log.info(
                "published %s to %s: %s", row.entry, row.account, outcome.url or outcome.remote_id
            )
        url = outcome.url if isinstance(outcome, Sent) else None
        error = outcome.note if isinstance(outcome, Sent) else outcome.error
        return _outcome(row, status, url=url, error=error)

    def _record_found(self, row: Publication, found: Published, post: RenderedPost) -> Outcome:
        """Reconciliation found the post on the platform: it did go out."""
        where = found.url or found.remote_id
        log.info("reconciled %s for %s: it did go out (%s)", row.entry, row.account, where)
        return self._record(row, _sent(found, post))

    def _record_failure(self, row: Publication, reason: str) -> Outcome:
        log.error("failed: %s for %s: %s", row.entry, row.account, reason)
        return self._record(row, Ended(Status.FAILED, reason))


def _as_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _sent(published: Published, post: RenderedPost, note: str | None = None) -> Sent:
    return Sent(
        remote_id=published.remote_id,
        url=published.url,
        published_at=published.published_at,
        thread_ids=tuple(published.thread_ids),
        extra=dict(published.extra),
        text_hash=text_hash(post.parts),
        note=note,
    )


def _outcome(
    row: Publication, status: Status, url: str | None = None, error: str | None = None
) -> Outcome:
    assert row.id is not None
    return Outcome(row.id, row.entry, row.account, status, url or row.url, error)
