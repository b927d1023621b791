"""Collection: coming back after a post is published for its reactions, and for the audience.

One round (:meth:`MetricsCollector.run_due`) does, for every account of the project:

1. **Post metrics** on a decaying schedule: a post published at *P* is collected
   once after each step of ``metrics.after`` (default 15 min, 1 h, 6 h, 24 h, 3 d,
   7 d, 30 d; an account's ``metrics_after`` instead, if it has one), a little early
   or late so that batches fill up (:mod:`crosspost.collecting.metric_batches` says
   how much). A round that finds several steps passed (the collector was not
   running) takes one snapshot for all of them. After the last step the post is
   left alone. Due posts are grouped by account: ``fetch_metrics`` is called once
   per account per round, for every part of every thread, and batches as its
   platform allows; a thread's figures are the sum over its parts without its own
   replies (:func:`~crosspost.collecting.thread_metrics.thread_metrics`).
2. **Account snapshots** every ``metrics.accounts_every``; where the connector
   lists followers, the set is compared with the stored one (joins and leaves).
3. **Inbox** for connectors with ``Capability.INBOX``: mentions and replies since
   the stored cursor. A connector that reads a pushed stream (``connectors.records``)
   stores the member messages it finds itself, whichever step read them; they are
   counted with the account's interactions all the same.

The four steps (post metrics, account figures, followers, inbox) are independent:
a step that fails is recorded under its own name (``AccountOutcome.errors``) and
the next step still runs, so a token refused one scope still collects what its
other scopes allow. ``RateLimited`` is the exception: it pauses the whole account
until ``retry_at`` (the platform asked for quiet) while the other accounts go on.
``Transient`` and ``Unknown`` are retried next round; ``AuthError`` is logged as a
warning and retried next round (a person has to renew the credentials or grant
the scope). ``run_due`` never raises for one account.

The collector leases the accounts and runs the round; what is due comes from
:mod:`crosspost.collecting.metrics_due`, each account's steps from
:mod:`crosspost.collecting.metrics_steps` and :mod:`crosspost.collecting.metrics_inbox`,
and what was done is a :mod:`crosspost.collecting.metrics_report`.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from connectors.base import Capability, Inbox
from crosspost.collecting.metric_batches import Window
from crosspost.collecting.metrics_due import DueWork
from crosspost.collecting.metrics_report import AccountOutcome, CollectReport
from crosspost.collecting.metrics_steps import AccountSteps
from crosspost.loading.project import Project
from crosspost.store import Store
from crosspost.store.claims import COLLECT, claim_accounts, paused, release_accounts
from crosspost.store.collect_inbox import InboxSchedule, inbox_schedules

__all__ = ["MetricsCollector"]


class MetricsCollector(DueWork, AccountSteps):
    """Collects post metrics, account snapshots, follower changes and the inbox.

    Args:
        store: where snapshots go.
        project: the loaded project; assign ``collector.project`` after a reload.
        clock: returns the current UTC time (tests pass a fake one).
        thin: drop unchanged middle snapshots.
        max_posts: at most this many posts collected per round (bounded work).
        window: how early and late a step may be collected so that batches fill up
            (:class:`~crosspost.collecting.metric_batches.Window`: by default between 0.7 × the
            step and the step + min(half the step, 30 min)).
        every: how often rounds come (the daemon's and the looping command's interval), so
            that a step waits for company only while a round still comes within its window;
            None for a single round: then no step waits.
        inbox_every: how often an account's inbox is read while reads find something.
        inbox_max_every: the interval doubles after each read that found nothing, up
            to this; a read that finds something goes back to ``inbox_every``.
        inbox_pages: at most this many inbox pages read per account and round.
        follower_limit: at most this many followers listed; a longer list is not diffed.
        on_account: called with each account's name before it is worked on (progress).
        batch_accounts: accounts leased at a time (``crosspost.store.claims``): several
            daemons on one database share a round's accounts, none collects one twice.
        lease: how long such a lease lasts if the daemon dies before giving it back.
    """

    def __init__(
        self,
        store: Store,
        project: Project,
        clock: Callable[[], datetime] | None = None,
        *,
        thin: bool = True,
        max_posts: int = 1000,
        window: Window | None = None,
        every: timedelta | None = timedelta(minutes=1),
        inbox_every: timedelta = timedelta(minutes=5),
        inbox_max_every: timedelta = timedelta(hours=1),
        inbox_pages: int = 5,
        follower_limit: int = 10_000,
        on_account: Callable[[str], None] | None = None,
        batch_accounts: int = 100,
        lease: timedelta = timedelta(minutes=15),
    ) -> None:
        self.store = store
        self.project = project
        self.clock = clock or (lambda: datetime.now(UTC))
        self.thin = thin
        self.max_posts = max_posts
        self.window = window or Window()
        self.every = every if every is not None and every > timedelta(0) else None
        self.inbox_every = inbox_every
        self.inbox_max_every = inbox_max_every
        self.inbox_pages = inbox_pages
        self.follower_limit = follower_limit
        self.on_account = on_account
        self.batch_accounts = batch_accounts
        self.lease = lease
        self.worker = f"{socket.gethostname()}:{os.getpid()}:collect:{id(self):x}"
        self._budget = max_posts
        self._paused: dict[str, datetime] = {}
        # Steps that got no answer, remembered so they are not asked for every round.
        self._unanswered: dict[int, timedelta] = {}
        self._audience_tried: dict[str, datetime] = {}
        self._inbox_read: dict[str, datetime] = {}
        self._inbox_schedules: dict[str, InboxSchedule] = {}
        self._streamed: set[str] = set()
        self._lock = threading.Lock()

    def run_due(self) -> CollectReport:
        """Collect everything that is due now; one account's failure never stops the others.

        Accounts are leased a batch at a time; one another daemon holds is left to it.
        """
        with self._lock:
            project, now = self.project, self.clock()
            project.attach_store(self.store)
            report = CollectReport(started_at=now)
            self._budget = self.max_posts
            seen: set[int] = set()
            left = sorted(project.accounts)
            while batch := self._lease(left):  # none left, or the rest is other daemons'
                try:
                    report.accounts += self._collect_batch(project, batch, now, seen)
                finally:
                    release_accounts(self.store, COLLECT, batch, self.worker)
                taken = set(batch)
                left = [account for account in left if account not in taken]
            self._unanswered = {p: s for p, s in self._unanswered.items() if p in seen}
            return report

    def read_inbox_now(self, account: str) -> int | None:
        """Read ``account``'s inbox at once, as its notification stream asks.

        Returns:
            How many new interactions were stored; None when another daemon holds the
            account's lease (it is collecting the account now: ask again shortly).
        """
        with self._lock:
            now, project = self.clock(), self.project
            if not claim_accounts(self.store, COLLECT, [account], self.worker, now, self.lease):
                return None
            try:
                project.attach_store(self.store)
                self._inbox_schedules = inbox_schedules(self.store)
                self._paused.update(paused(self.store, COLLECT, now))
                return self._read_inbox(project, account, now)
            finally:
                release_accounts(self.store, COLLECT, [account], self.worker)

    def _read_inbox(self, project: Project, account: str, now: datetime) -> int:
        """The inbox step alone, failing as it does in a round; a paused account waits."""
        pause = self._paused.get(account)
        if pause is not None and now < pause:
            return 0  # rate limited: the first poll after the pause reads it
        outcome = AccountOutcome(account)
        with self._step(outcome, "inbox"):
            connector = project.connector(account)
            if isinstance(connector, Inbox) and Capability.INBOX in connector.capabilities:
                self._collect_inbox(connector, connector.name, account, now, outcome)
        return outcome.interactions

    def _lease(self, accounts: list[str]) -> list[str]:
        """Up to ``batch_accounts`` of ``accounts`` leased to this collector."""
        now, limit = self.clock(), self.batch_accounts
        return claim_accounts(self.store, COLLECT, accounts, self.worker, now, self.lease, limit)

    def _collect_batch(
        self, project: Project, batch: list[str], now: datetime, seen: set[int]
    ) -> list[AccountOutcome]:
        """Collect a leased batch; what is due is read once the lease is held."""
        due = self._due_posts(project, now, batch, seen)
        self._inbox_schedules = inbox_schedules(self.store)
        self._paused.update(paused(self.store, COLLECT, now))
        audience_due = self._audience_due(project, now, batch)
        outcomes = []
        for account in batch:
            if self.on_account is not None:
                self.on_account(account)
            outcome = self._collect_account(
                project, account, now, due.get(account, []), account in audience_due
            )
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes
