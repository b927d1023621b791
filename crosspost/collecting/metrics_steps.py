"""One account's collection: independent steps, each failing on its own.

:class:`AccountSteps` is the per-account side of
:class:`~crosspost.collecting.metrics.MetricsCollector` (which it is a base of). The
steps due for an account (post metrics, account figures, followers, inbox) run one
after the other; a step that fails is recorded under its own name
(``AccountOutcome.errors``) and the next step still runs. ``RateLimited`` pauses the
whole account until ``retry_at``, on every daemon sharing the database, and ends its
steps for the round; ``AuthError`` is logged as a warning, other connector errors as
information, and anything else with its traceback: all are retried next round.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from connectors.base import (
    AuthError,
    Capability,
    Connector,
    ConnectorError,
    FollowerList,
    Inbox,
    RateLimited,
)
from crosspost.collecting.metric_batches import Due
from crosspost.collecting.metrics_inbox import InboxReads
from crosspost.collecting.metrics_report import AccountOutcome
from crosspost.collecting.thread_metrics import thread_metrics
from crosspost.loading.project import Project
from crosspost.store.claims import COLLECT, pause_account
from crosspost.store.collect import Candidate, NewSnapshot, add_metric_snapshots
from crosspost.store.collect_audience import apply_followers
from crosspost.store.models import AccountSnapshot

__all__ = ["AccountSteps"]

#: The collector's records keep the logger name they always had (log filters, JSON logs).
log = logging.getLogger("crosspost.collecting.metrics")


class AccountSteps(InboxReads):
    """Collects what is due for one account: post metrics, audience, followers, inbox.

    The collector sets the attributes declared here (and those of :class:`InboxReads`).
    """

    thin: bool
    follower_limit: int
    #: Accounts paused until the time given (rate limited).
    _paused: dict[str, datetime]
    #: Steps that got no answer, by publication.
    _unanswered: dict[int, timedelta]
    #: When each account's audience was last asked for.
    _audience_tried: dict[str, datetime]

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


def _parts(candidate: Candidate) -> tuple[str, ...]:
    return candidate.parts or (candidate.remote_id,)
