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

Before the first send, a queue's slot gets its item and approvals are checked
(:mod:`crosspost.publishing.preflight`). A post recorded as published has its first
comment written down in the same transaction and sent right after it
(:mod:`crosspost.publishing.comments`).

An announcement of an article may wait for the article's long-form publication of
the same occurrence before it is rendered (:mod:`crosspost.rendering.articles`): it stays
``planned`` and is looked at again, and recording the long-form one wakes it.

What each error does is in :mod:`crosspost.publishing.failures`, the search for posts of
unknown outcome in :mod:`crosspost.publishing.reconcile`, pacing in
:mod:`crosspost.publishing.pacing`, and the hand-over of an account's next post in
:mod:`crosspost.publishing.chaining`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from connectors.base import ConnectorError, Published, RenderedPost
from crosspost.errors import ConfigError, RenderError
from crosspost.loading.content_item import ContentItem
from crosspost.loading.project import Project
from crosspost.publishing import posts
from crosspost.publishing.chaining import Chaining
from crosspost.publishing.comment_sending import CommentSender
from crosspost.publishing.comments import is_comment
from crosspost.publishing.failures import Failures
from crosspost.publishing.outcome import Outcome, Ready, idempotency_key, outcome_of, sent_from
from crosspost.publishing.pacing import is_paced, is_throttled, throttled
from crosspost.publishing.posts import ArticleLink
from crosspost.publishing.preflight import Preflight
from crosspost.publishing.progress import StoreProgress, resumable
from crosspost.publishing.reconcile import Reconciler
from crosspost.publishing.replies import is_reply, mark_sent, send_reply
from crosspost.publishing.reported import LimitsRecorder
from crosspost.publishing.upkeep import Upkeep
from crosspost.status import Status
from crosspost.store import Ended, Finish, Publication, Requeued, Sent, Store
from crosspost.store.claims import PUBLISH, paused
from crosspost.store.lease import Holder, this_process

__all__ = ["Publisher"]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


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
        self.failures = Failures(self)
        self.reconciler = Reconciler(self)
        self.preflight = Preflight(self)
        self.chaining = Chaining(self)
        self.comments = CommentSender(self)
        self.upkeep = Upkeep(self)
        self.limits = LimitsRecorder(self)

    # -- the loop body ------------------------------------------------------

    def run_due(self, limit: int = 50) -> list[Outcome]:
        """Publish what is due now; return what happened to each publication touched."""
        now = self.clock()
        outcomes = self.maintain(now)
        rows = self.store.claim_due(
            now, self.worker_id, self.lease, limit, self.blocked(now), self.holder
        )
        rows = self.keep_paced(rows)
        # announcements of an article go after the posts they may link to
        later = [row for row in rows if posts.announces(self.project, row)]
        for batch in ([row for row in rows if row not in later], later):
            outcomes += self._publish_batch(batch)
        return outcomes

    def _publish_batch(self, rows: list[Publication]) -> list[Outcome]:
        """Publish claimed rows: accounts in parallel, each account's rows in order."""
        by_account: dict[str, list[Publication]] = defaultdict(list)
        for row in rows:
            by_account[row.account].append(row)
        if len(by_account) <= 1:
            return [
                o
                for account_rows in by_account.values()
                for o in self._publish_account(account_rows)
            ]
        outcomes: list[Outcome] = []
        with ThreadPoolExecutor(max_workers=min(self.workers, len(by_account))) as pool:
            for result in pool.map(self._publish_account, by_account.values()):
                outcomes += result
        return outcomes

    def refresh_holds(self) -> None:
        """Lift holds of accounts whose settings changed; read the others from the store."""
        self.upkeep.refresh_holds()

    def maintain(self, now: datetime) -> list[Outcome]:
        """Holds and limits from the store, expired leases, unknown rows, rows past their grace."""
        return self.upkeep.maintain(now)

    def may_publish(self, account: str, now: datetime) -> bool:
        """Whether ``account`` may send now (not paused, held or throttled, no stop asked)."""
        if self.stopping.is_set() or account in self.held:
            return False
        paused = self.paused.get(account)
        if paused is not None and paused > now:
            return False
        return not is_throttled(self.store, self.project, account, now)

    def blocked(self, now: datetime) -> list[str]:
        """Accounts that must not publish now: paused (here or by any daemon), held or
        throttled."""
        for account, until in list(self.paused.items()):  # in place: workers add to it
            if until <= now:
                self.paused.pop(account, None)
        for account, until in paused(self.store, PUBLISH, now).items():
            self.paused[account] = max(until, self.paused.get(account, until))
        return sorted(set(self.paused) | set(self.held) | throttled(self.store, self.project, now))

    def keep_paced(self, rows: list[Publication]) -> list[Publication]:
        """``rows`` just claimed, less those whose account's pacing says not yet (handed back).

        What :meth:`blocked` read may be stale by the claim: another daemon may have
        published for the account in between. Only accounts with pacing are read again.
        """
        kept = []
        for row in rows:
            if is_paced(self.project, row.account) and is_throttled(
                self.store, self.project, row.account, self.clock()
            ):
                self.release(row)
            else:
                kept.append(row)
        return kept

    def _publish_account(self, rows: list[Publication]) -> list[Outcome]:
        outcomes = []
        for index, row in enumerate(rows):
            if (
                self.stopping.is_set()
                or row.account in self.paused
                or row.account in self.held
                or (index and is_throttled(self.store, self.project, row.account, self.clock()))
            ):
                outcomes += [self.release(r) for r in rows[index:]]
                break
            outcomes += self.publish_row(row).flat()
        return outcomes

    def release(self, row: Publication) -> Outcome:
        """Give back a claimed row that was not tried (stop requested, account paused)."""
        assert row.id is not None
        retry_at = self.paused.get(row.account)
        handed_back = Requeued(retry_at, row.error, undo_attempt=True)
        self.store.finish(row.id, self.worker_id, self.clock(), handed_back)
        return outcome_of(row, Status.PLANNED)

    # -- one publication ----------------------------------------------------

    def publish_row(
        self,
        row: Publication,
        item: ContentItem | None = None,
        article_url: str | None = None,
        *,
        chain: bool = False,
    ) -> Outcome:
        """Render, publish and record one claimed publication (and its first comment).

        ``article_url``: where the article an announcement links to went out, when the
        caller knows (a one-off); else it is looked up (:mod:`crosspost.rendering.articles`).
        ``chain``: the caller sends the account's next publication right after this one
        (:meth:`take_ready`), so it may be claimed and started as this one is recorded.
        """
        if is_comment(row.entry):
            return self.comments.publish(row)
        stopped = self.preflight.choose_item(row) or self.preflight.gate(row, item)
        if stopped is not None:
            return stopped
        try:
            link = (
                ArticleLink(article_url)
                if article_url
                else posts.article_link(self.project, self.store, row, item)
            )
            if link.waits_for is not None:
                return self.preflight.wait(row, link)
            if link.missing:
                return self.record_failure(row, str(link.reason))
            post = self.render(row, item, link)
        except (RenderError, ConfigError, KeyError) as exc:
            return self.record_failure(row, f"cannot render: {exc}")
        return self._send_rendered(row, post, chain=chain)

    def send_ready(self, ready: Ready) -> Outcome:
        """Send a publication handed over by the last record (already marked as sending)."""
        if ready.row.account not in self.project.accounts:  # a reload removed it since
            return self.release(ready.row)
        return self._send_rendered(ready.row, ready.post, chain=True)

    def take_ready(self, account: str) -> Ready | None:
        """The publication of ``account`` handed over to be sent next, if any."""
        return self.chaining.take_ready(account)

    def end_turn(self, account: str) -> Ready | None:
        """Forget what was seen of ``account``'s queue; return a handed-over row not sent."""
        return self.chaining.end_turn(account)

    def _send_rendered(self, row: Publication, post: RenderedPost, *, chain: bool) -> Outcome:
        key = idempotency_key(row.entry, row.occurrence, row.account)

        def call() -> Published:
            return self._send(row, post, key)

        outcome = self.deliver(row, post, key, call, chain=chain)
        if outcome.status != Status.PUBLISHED or self.stopping.is_set():
            return outcome
        comment = self.comments.send_after(row)
        return replace(outcome, then=(comment,)) if comment is not None else outcome

    def deliver(
        self,
        row: Publication,
        post: RenderedPost,
        key: str,
        call: Callable[[], Published],
        *,
        chain: bool = False,
    ) -> Outcome:
        """Mark the row as sending (unless its claim did), ``call`` the connector, record."""
        assert row.id is not None
        if row.send_started_at is None:  # every claim sets it, or clears it
            row.send_started_at = self.clock()
            if not self.store.start_sending(
                row.id, self.worker_id, row.send_started_at, self.lease
            ):
                log.error(
                    "lost the lease on %s for %s before sending; not sent", row.entry, row.account
                )
                return outcome_of(row, Status.PUBLISHING)
        sent = False
        try:
            published = call()
            sent = True
        except ConnectorError as error:
            return self.failures.handle(row, post, key, error)
        finally:  # a server tells its limits with the first call, even one that fails
            if not sent:
                self.limits.keep(row.account)
        outcome = self.record(row, sent_from(published, post), chain=chain)
        self.limits.keep(row.account)  # unless the record wrote them in its transaction
        return outcome

    def _send(self, row: Publication, post: RenderedPost, key: str) -> Published:
        """The one call that may publish: ``reply`` for an answer to a member, else
        ``publish``; a resumable connector records its steps in the store as it goes."""
        connector = self.project.connector(row.account)
        if is_reply(row.entry):
            return send_reply(self.store, connector, row, post, key)
        stepwise = resumable(connector)
        if stepwise is None:
            return connector.publish(post, key)
        assert row.id is not None
        progress = StoreProgress(self.store, row.id, self.worker_id, self.lease, self.clock)
        return stepwise.publish_steps(post, key, progress)

    def render(
        self, row: Publication, item: ContentItem | None = None, link: ArticleLink | None = None
    ) -> RenderedPost:
        """The post a publication sends (:func:`crosspost.publishing.posts.render`).

        Raises:
            RenderError, ConfigError, KeyError: the content or template is broken or gone.
        """
        return posts.render(self.project, self.store, row, item, link)

    # -- recording ----------------------------------------------------------

    def record(self, row: Publication, outcome: Finish, *, chain: bool = False) -> Outcome:
        """Write ``outcome``: on our claim, or on an ``unknown`` row reconciliation looked at.

        ``chain``: the account's next publication may be started in the same transaction.
        """
        assert row.id is not None
        now = self.clock()
        follow = self.comments.follow_up(row, now) if isinstance(outcome, Sent) else []
        if row.status == Status.UNKNOWN:
            recorded = self.store.settle(row.id, now, outcome, follow)
        elif chain and not follow and isinstance(outcome, Sent):
            recorded = self.chaining.record_handing_over(row, outcome, now)
        else:
            recorded = self.store.finish(row.id, self.worker_id, now, outcome, follow)
        status = outcome.status
        if recorded and follow and row.status != Status.UNKNOWN:  # settled: a round sends it
            self.comments.written(row)
        if recorded and status != Status.PLANNED and posts.awaited(self.project, row.account):
            self.store.wake_waiting(row.entry, row.occurrence, row.account, now)
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
            if is_reply(row.entry):
                mark_sent(self.store, row, outcome.published_at or now)
        url = outcome.url if isinstance(outcome, Sent) else None
        error = outcome.note if isinstance(outcome, Sent) else outcome.error
        return outcome_of(row, status, url=url, error=error)

    def record_failure(self, row: Publication, reason: str) -> Outcome:
        """Record ``row`` as ``failed`` for ``reason``."""
        log.error("failed: %s for %s: %s", row.entry, row.account, reason)
        return self.record(row, Ended(Status.FAILED, reason))
