"""What a collection round works on: the posts due per account, and the audiences due.

:class:`DueWork` is the planning side of
:class:`~crosspost.collecting.metrics.MetricsCollector` (which it is a base of). Posts
come from the store's candidates (published, not past their last step by more than
:data:`CATCH_UP`); each post's next step is the first one no snapshot covered yet,
counting a step that got no answer as covered until the post leaves the candidates,
so it is not asked for every round. Which of an account's posts go now, and which
wait for company to fill a batch, is :func:`~crosspost.collecting.metric_batches.account_batch`'s
call; a round takes at most ``max_posts`` posts in all. Steps are the schedule's
``metrics.after``, or an account's own ``metrics_after``. An account's audience is due
every ``metrics.accounts_every`` since its last snapshot or the last try.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import datetime, timedelta

from crosspost.collecting.metric_batches import Due, Window, account_batch, batch_size, next_step
from crosspost.loading.project import Project
from crosspost.store import Store
from crosspost.store.collect import Candidate, collect_candidates
from crosspost.store.collect_audience import last_account_snapshots

__all__ = ["CATCH_UP", "DueWork", "metric_steps"]

#: Posts whose last step passed longer ago than this are not caught up on any more.
CATCH_UP = timedelta(days=7)


def metric_steps(project: Project, account: str) -> list[timedelta]:
    """When ``account``'s posts are collected, shortest first: its own ``metrics_after``,
    else the schedule's ``metrics.after``; none for an account the schedule does not
    have (any more)."""
    spec = project.schedule.accounts.get(account)
    if spec is None:
        return []
    own = spec.metrics_after
    return sorted(own if own is not None else project.schedule.metrics.after)


class DueWork:
    """Chooses a round's work: the posts to collect per account, the audiences due.

    The collector sets the attributes declared here.
    """

    store: Store
    window: Window
    every: timedelta | None
    #: Posts the round may still take.
    _budget: int
    #: Steps that got no answer, by publication, remembered so they are not asked for
    #: every round.
    _unanswered: dict[int, timedelta]
    #: When each account's audience was last asked for.
    _audience_tried: dict[str, datetime]

    def _due_posts(
        self, project: Project, now: datetime, accounts: Collection[str], seen: set[int]
    ) -> dict[str, list[Due]]:
        """Per account, the posts to collect this round and the step each snapshot covers.

        Only accounts with a post whose step has fallen due (and stopped waiting for
        company) get a batch (:func:`~crosspost.collecting.metric_batches.account_batch`).
        """
        steps = {account: metric_steps(project, account) for account in accounts}
        longest = max((s[-1] for s in steps.values() if s), default=None)
        if longest is None:
            return {}
        candidates = collect_candidates(self.store, now - longest - CATCH_UP, accounts)
        seen.update(c.publication_id for c in candidates)
        waiting: dict[str, list[tuple[Candidate, timedelta]]] = defaultdict(list)
        for candidate in candidates:
            first = (
                self._next_step(candidate, steps[candidate.account])
                if candidate.account in project.accounts and steps.get(candidate.account)
                else None
            )
            if first is not None:
                waiting[candidate.account].append((candidate, first))
        due: dict[str, list[Due]] = {}
        for account, posts in sorted(waiting.items()):
            size = self._batch_size(project, account)
            chosen = account_batch(posts, steps[account], now, self.window, size, self.every)
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
