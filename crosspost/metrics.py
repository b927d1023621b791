"""Collection: coming back after a post is published for its reactions, and for the audience.

One round (:meth:`MetricsCollector.run_due`) does, for every account of the project:

1. **Post metrics** on a decaying schedule: a post published at *P* is collected
   once after each step of ``metrics.after`` (default 15 min, 1 h, 6 h, 24 h, 3 d,
   7 d, 30 d). A round that finds several steps passed (the collector was not
   running) takes one snapshot for all of them. After the last step the post is
   left alone. Due posts are grouped by account: ``fetch_metrics`` is called once
   per account per round, for every part of every thread, and batches as its
   platform allows; a thread's figures are the sum over its parts without its
   own replies (:func:`~crosspost.thread_metrics.thread_metrics`).
2. **Account snapshots** every ``metrics.accounts_every``; where the connector
   lists followers, the set is compared with the stored one (joins and leaves).
3. **Inbox** for connectors with ``Capability.INBOX``: mentions and replies since
   the stored cursor.

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
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
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
from crosspost.project import Project
from crosspost.store import Store
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
from crosspost.thread_metrics import thread_metrics

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


def next_step(
    published_at: datetime,
    last: datetime | None,
    steps: list[timedelta],
    covered: timedelta | None = None,
) -> timedelta | None:
    """The first step of ``steps`` not yet covered by a snapshot taken at ``last``.

    Args:
        published_at: when the post was published.
        last: when its newest snapshot was taken (None: never).
        steps: ``metrics.after``, shortest first.
        covered: the furthest step a snapshot recorded covering; a snapshot taken a
            little before its step (aligned collection) covers that step.

    Returns:
        The step, or None when every step is covered (collection is over).
    """
    for step in steps:
        if (covered is None or step > covered) and (last is None or published_at + step > last):
            return step
    return None


def step_to_cover(
    published_at: datetime,
    first: timedelta,
    steps: list[timedelta],
    now: datetime,
    align: float,
) -> timedelta | None:
    """The furthest step from ``first`` on that falls due by ``now`` within its window.

    A step *s* is in its window once ``now`` is at most ``align`` × *s* before it
    falls due; a round that finds several steps passed covers all of them at once.

    Returns:
        The step a snapshot taken now covers, or None when ``first`` is not in its window yet.
    """
    covered = None
    for step in steps:
        if step >= first and published_at + step <= now + step * align:
            covered = step
    return covered


class MetricsCollector:
    """Collects post metrics, account snapshots, follower changes and the inbox.

    Args:
        store: where snapshots go.
        project: the loaded project; assign ``collector.project`` after a reload.
        clock: returns the current UTC time (tests pass a fake one).
        thin: drop unchanged middle snapshots.
        max_posts: at most this many posts collected per round (bounded work).
        align: when one of an account's posts is due, its other posts whose step falls
            due within this fraction of the step (0.1: a 24 h step within 2.4 h) are
            collected in the same batch, a little early, so batches fill up.
        inbox_every: how often an account's inbox is read while reads find something.
        inbox_max_every: the interval doubles after each read that found nothing, up
            to this; a read that finds something goes back to ``inbox_every``.
        inbox_pages: at most this many inbox pages read per account and round.
        follower_limit: at most this many followers listed; a longer list is not diffed.
        on_account: called with each account's name before it is worked on (progress).
    """

    def __init__(
        self,
        store: Store,
        project: Project,
        clock: Callable[[], datetime] | None = None,
        *,
        thin: bool = True,
        max_posts: int = 1000,
        align: float = 0.1,
        inbox_every: timedelta = timedelta(minutes=5),
        inbox_max_every: timedelta = timedelta(hours=1),
        inbox_pages: int = 5,
        follower_limit: int = 10_000,
        on_account: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.project = project
        self.clock = clock or (lambda: datetime.now(UTC))
        self.thin = thin
        self.max_posts = max_posts
        self.align = align
        self.inbox_every = inbox_every
        self.inbox_max_every = inbox_max_every
        self.inbox_pages = inbox_pages
        self.follower_limit = follower_limit
        self.on_account = on_account
        self._paused: dict[str, datetime] = {}
        # Steps that got no answer, remembered so they are not asked for every round.
        self._unanswered: dict[int, timedelta] = {}
        self._audience_tried: dict[str, datetime] = {}
        self._inbox_read: dict[str, datetime] = {}
        self._inbox_schedules: dict[str, InboxSchedule] = {}
        self._lock = threading.Lock()

    def run_due(self) -> CollectReport:
        """Collect everything that is due now; one account's failure never stops the others."""
        with self._lock:
            project, now = self.project, self.clock()
            report = CollectReport(started_at=now)
            due = self._due_posts(project, now)
            self._inbox_schedules = inbox_schedules(self.store)
            audience_due = self._audience_due(project, now)
            for account in sorted(project.accounts):
                if self.on_account is not None:
                    self.on_account(account)
                outcome = self._collect_account(
                    project, account, now, due.get(account, []), account in audience_due
                )
                if outcome is not None:
                    report.accounts.append(outcome)
            return report

    # -- planning the round ----------------------------------------------------

    def _due_posts(self, project: Project, now: datetime) -> dict[str, list[_Due]]:
        """Per account, the posts to collect this round and the step each snapshot covers.

        Only accounts with a post whose step has fallen due get a batch; it also takes
        the account's posts whose step falls due within their window (``align``).
        """
        steps = sorted(project.schedule.metrics.after)
        if not steps:
            return {}
        candidates = collect_candidates(self.store, now - steps[-1] - CATCH_UP)
        self._unanswered = {
            c.publication_id: self._unanswered[c.publication_id]
            for c in candidates
            if c.publication_id in self._unanswered
        }
        fallen: list[_Due] = []
        early: list[_Due] = []
        for candidate in candidates:
            if candidate.account in project.accounts:
                self._place(candidate, steps, now, fallen, early)
        triggered = {d.candidate.account for d in fallen}
        batch = fallen + [d for d in early if d.candidate.account in triggered]
        due: dict[str, list[_Due]] = defaultdict(list)
        for item in batch[: self.max_posts]:
            due[item.candidate.account].append(item)
        return due

    def _place(
        self,
        candidate: Candidate,
        steps: list[timedelta],
        now: datetime,
        fallen: list[_Due],
        early: list[_Due],
    ) -> None:
        """Put ``candidate`` in ``fallen`` (its step is due) or ``early`` (within its window)."""
        first = self._next_step(candidate, steps)
        if first is None:
            return
        step = step_to_cover(candidate.published_at, first, steps, now, self.align)
        if step is None:
            return
        fits = fallen if candidate.published_at + first <= now else early
        fits.append(_Due(candidate, step))

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

    def _audience_due(self, project: Project, now: datetime) -> set[str]:
        every = project.schedule.metrics.accounts_every
        last = last_account_snapshots(self.store)
        due = set()
        for account in project.accounts:
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
        posts: list[_Due],
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
        return outcome

    def _steps(
        self,
        connector: Connector,
        account: str,
        now: datetime,
        posts: list[_Due],
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
        posts: list[_Due],
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


@dataclass(frozen=True)
class _Due:
    """A post to collect this round and the step its snapshot covers."""

    candidate: Candidate
    step: timedelta
