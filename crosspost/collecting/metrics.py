"""Collection: coming back after a post is published for its reactions, and for the audience.

One round (:meth:`MetricsCollector.run_due`) does, for every account of the project:

1. **Post metrics** on a decaying schedule: a post published at *P* is collected
   once after each step of ``metrics.after`` (default 15 min, 1 h, 6 h, 24 h, 3 d,
   7 d, 30 d), a little early or late so that batches fill up
   (:mod:`crosspost.collecting.metric_batches` says how much). A round that finds several
   steps passed (the collector was not running) takes one snapshot for all of
   them. After the last step the post is left alone. Due posts are grouped by
   account: ``fetch_metrics`` is called once per account per round, for every part
   of every thread, and batches as its platform allows; a thread's figures are the
   sum over its parts without its own replies
   (:func:`~crosspost.collecting.thread_metrics.thread_metrics`).
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
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.base import (
    AuthError,
    Capability,
    Connector,
    ConnectorError,
    FollowerList,
    Inbox,
    InboxItem,
    RateLimited,
)
from crosspost.collecting.metric_batches import Due, Window, account_batch, batch_size, next_step
from crosspost.collecting.thread_metrics import thread_metrics
from crosspost.loading.project import Project
from crosspost.store import Store
from crosspost.store.claims import COLLECT, claim_accounts, pause_account, paused, release_accounts
from crosspost.store.collect import (
    Candidate,
    InboxSchedule,
    NewSnapshot,
    add_metric_snapshots,
    apply_followers,
    collect_candidates,
    inbox_cursor,
    inbox_schedules,
    last_account_snapshots,
    save_inbox,
)
from crosspost.store.models import AccountSnapshot

__all__ = ["AccountOutcome", "CollectReport", "MetricsCollector", "next_step"]

log = logging.getLogger(__name__)

#: Posts whose last step passed longer ago than this are not caught up on any more.
CATCH_UP = timedelta(days=7)


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


class MetricsCollector:
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

    # -- planning the round ----------------------------------------------------

    def _due_posts(
        self, project: Project, now: datetime, accounts: Collection[str], seen: set[int]
    ) -> dict[str, list[Due]]:
        """Per account, the posts to collect this round and the step each snapshot covers.

        Only accounts with a post whose step has fallen due (and stopped waiting for
        company) get a batch (:func:`~crosspost.collecting.metric_batches.account_batch`).
        """
        steps = sorted(project.schedule.metrics.after)
        if not steps:
            return {}
        candidates = collect_candidates(self.store, now - steps[-1] - CATCH_UP, accounts)
        seen.update(c.publication_id for c in candidates)
        waiting: dict[str, list[tuple[Candidate, timedelta]]] = defaultdict(list)
        for candidate in candidates:
            first = (
                self._next_step(candidate, steps) if candidate.account in project.accounts else None
            )
            if first is not None:
                waiting[candidate.account].append((candidate, first))
        due: dict[str, list[Due]] = {}
        for account, posts in sorted(waiting.items()):
            size = self._batch_size(project, account)
            chosen = account_batch(posts, steps, now, self.window, size, self.every)
            chosen = chosen[: max(self._budget, 0)]
            if chosen:
                due[account] = chosen
                self._budget -= len(chosen)
        return due

    def _batch_size(self, project: Project, account: str) -> int:
        try:
            return batch_size(project.connector(account))
        except Exception:  # a broken connector fails in its own step, with the reason
            return 1

    def _next_step(self, candidate: Candidate, steps: list[timedelta]) -> timedelta | None:
        covered = [
            s
            for s in (candidate.last_step, self._unanswered.get(candidate.publication_id))
            if s is not None
        ]
        return next_step(
            candidate.published_at,
            candidate.last_collected_at,
            steps,
            max(covered) if covered else None,
        )

    def _audience_due(self, project: Project, now: datetime, accounts: list[str]) -> set[str]:
        every = project.schedule.metrics.accounts_every
        last = last_account_snapshots(self.store)
        due = set()
        for account in accounts:
            seen = [t for t in (last.get(account), self._audience_tried.get(account)) if t]
            if not seen or now - max(seen) >= every:
                due.add(account)
        return due

    # -- one account -----------------------------------------------------------

    def _collect_account(
        self,
        project: Project,
        account: str,
        now: datetime,
        posts: list[Due],
        audience: bool,
    ) -> AccountOutcome | None:
        paused = self._paused.get(account)
        if paused is not None and now < paused:
            return AccountOutcome(account, error="rate limited", retry_at=paused)
        self._paused.pop(account, None)
        outcome = AccountOutcome(account)
        connector: Connector | None = None
        with self._step(outcome, "connector"):
            connector = project.connector(account)
        if connector is None:
            return outcome
        steps = self._steps(connector, account, now, posts, audience, outcome)
        if not steps:
            return None
        for name, work in steps:
            with self._step(outcome, name):
                work()
            if outcome.retry_at is not None:
                break  # rate limited: the platform asked for quiet, so no further step
        records = project.records(account)
        if records is not None:  # member messages a pushed stream brought, stored as read
            outcome.interactions += records.take_new_interactions()
        return outcome

    def _steps(
        self,
        connector: Connector,
        account: str,
        now: datetime,
        posts: list[Due],
        audience: bool,
        outcome: AccountOutcome,
    ) -> list[tuple[str, Callable[[], None]]]:
        """The independent steps due for one account, each failing on its own."""
        steps: list[tuple[str, Callable[[], None]]] = []
        if posts:
            steps.append(
                ("post metrics", lambda: self._collect_posts(connector, posts, now, outcome))
            )
        if audience:
            self._audience_tried[account] = now
            steps.append(
                ("account figures", lambda: self._collect_figures(connector, account, now, outcome))
            )
            lister = connector if isinstance(connector, FollowerList) else None
            if lister is not None and Capability.FOLLOWER_LIST in connector.capabilities:
                steps.append(
                    ("followers", lambda: self._collect_followers(lister, account, now, outcome))
                )
        inbox = connector if isinstance(connector, Inbox) else None
        if inbox is not None and self._inbox_due(connector, account, now):
            steps.append(
                ("inbox", lambda: self._collect_inbox(inbox, connector.name, account, now, outcome))
            )
        return steps

    @contextmanager
    def _step(self, outcome: AccountOutcome, step: str) -> Iterator[None]:
        account = outcome.account
        try:
            yield
        except RateLimited as exc:
            self._paused[account] = exc.retry_at
            pause_account(self.store, account, COLLECT, exc.retry_at, str(exc))  # every daemon
            outcome.fail(step, str(exc))
            outcome.retry_at = exc.retry_at
            log.info(
                "%s: %s rate limited until %s; other accounts go on", account, step, exc.retry_at
            )
        except AuthError as exc:
            outcome.fail(step, str(exc))
            log.warning("%s: %s refused, the other steps go on: %s", account, step, exc)
        except ConnectorError as exc:
            outcome.fail(step, str(exc))
            log.info("%s: %s failed, retried next round: %s", account, step, exc)
        except Exception as exc:  # a broken connector must not stop the other accounts
            outcome.fail(step, f"{type(exc).__name__}: {exc}")
            log.exception("%s: unexpected error while collecting %s", account, step)

    def _collect_posts(
        self,
        connector: Connector,
        posts: list[Due],
        now: datetime,
        outcome: AccountOutcome,
    ) -> None:
        parts = {due.candidate.publication_id: _parts(due.candidate) for due in posts}
        wanted = [part for post_parts in parts.values() for part in post_parts]
        found = connector.fetch_metrics(list(dict.fromkeys(wanted)))
        batch: list[NewSnapshot] = []
        for due in posts:
            metrics = thread_metrics(parts[due.candidate.publication_id], found)
            if metrics is None:
                self._unanswered[due.candidate.publication_id] = due.step
                continue
            step = int(due.step.total_seconds())
            batch.append(NewSnapshot(due.candidate.publication_id, now, metrics, step))
        outcome.thinned += add_metric_snapshots(self.store, batch, self.thin)
        outcome.posts += len(batch)

    def _collect_figures(
        self, connector: Connector, account: str, now: datetime, outcome: AccountOutcome
    ) -> None:
        figures = connector.account_metrics()
        values = (figures.followers, figures.following, figures.posts, figures.members)
        if any(v is not None for v in values) or figures.raw:
            self.store.add_snapshot(
                AccountSnapshot(
                    account=account,
                    collected_at=now,
                    followers=figures.followers,
                    following=figures.following,
                    posts=figures.posts,
                    members=figures.members,
                    raw=dict(figures.raw),
                )
            )
            outcome.account_snapshot = True

    def _collect_followers(
        self, connector: FollowerList, account: str, now: datetime, outcome: AccountOutcome
    ) -> None:
        followers = connector.followers(self.follower_limit)
        if len(followers) >= self.follower_limit:
            # A cut-short list would turn everyone past the cut into a "leave".
            log.warning(
                "%s: more than %d followers; joins and leaves not tracked",
                account,
                self.follower_limit,
            )
            return
        diff = apply_followers(self.store, account, followers, now)
        outcome.joins, outcome.leaves = len(diff.joins), len(diff.leaves)

    def _inbox_due(self, connector: Connector, account: str, now: datetime) -> bool:
        if Capability.INBOX not in connector.capabilities:
            return False
        tried = self._inbox_read.get(account)
        if tried is not None and now - tried < self.inbox_every:
            return False  # a failed read waits too, it does not retry every round
        schedule = self._inbox_schedules.get(account)
        return schedule is None or now >= schedule.next_at

    def _collect_inbox(
        self, inbox: Inbox, platform: str, account: str, now: datetime, outcome: AccountOutcome
    ) -> None:
        """Read the pages since the cursor; store them and the next read in one transaction.

        What was read before a failing page is still stored (with the cursor reached).
        """
        self._inbox_read[account] = now
        start = inbox_cursor(self.store, account)
        read = _InboxRead(start)
        try:
            self._read_pages(inbox, read)
        finally:
            schedule = self._next_read(account, now, bool(read.items)) if read.done else None
            if schedule is None:  # a failed read waits too, on every daemon
                schedule = self._retry_read(account, now)
            if read.items or read.cursor != start or schedule is not None:
                outcome.interactions += save_inbox(
                    self.store,
                    account,
                    platform,
                    read.items,
                    read.cursor,
                    now,
                    schedule=schedule,
                )

    def _read_pages(self, inbox: Inbox, read: _InboxRead) -> None:
        for _page in range(self.inbox_pages):
            page = inbox.fetch_inbox(read.cursor)
            read.items.extend(page.items)
            ended = not page.items or page.cursor is None or page.cursor == read.cursor
            read.cursor = page.cursor or read.cursor
            if ended:
                break
        read.done = True

    def _retry_read(self, account: str, now: datetime) -> InboxSchedule:
        """After a failed read: again in ``inbox_every``, the interval reached kept."""
        previous = self._inbox_schedules.get(account)
        every = previous.every if previous else self.inbox_every
        schedule = InboxSchedule(every, now + self.inbox_every)
        self._inbox_schedules[account] = schedule
        return schedule

    def _next_read(self, account: str, now: datetime, found: bool) -> InboxSchedule:
        """Back to ``inbox_every`` after a read that found something, else twice the last wait."""
        every = self.inbox_every
        previous = self._inbox_schedules.get(account)
        if not found:
            waited = max(previous.every if previous else every, every)
            every = min(waited * 2, max(self.inbox_max_every, every))
        schedule = InboxSchedule(every, now + every)
        self._inbox_schedules[account] = schedule
        return schedule


@dataclass
class _InboxRead:
    """The pages of one inbox read so far."""

    cursor: str | None
    items: list[InboxItem] = field(default_factory=list)
    done: bool = False


def _parts(candidate: Candidate) -> tuple[str, ...]:
    return candidate.parts or (candidate.remote_id,)
