"""Handing over: an account's next post claimed as the one before it is recorded.

When a post is recorded as published and the account's next due publication may go
out straight away (no pacing, nothing to write down first), the same transaction
claims it and marks it as sending (:mod:`crosspost.store.handover`); the dispatcher
then sends it as :class:`~crosspost.publishing.outcome.Ready`, without another claim.
When there is no such post, the record reads the account's oldest due one in its
transaction instead: when none is due, the account's turn ends without a claim.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from connectors.base import RenderedPost
from crosspost.errors import ConfigError, RenderError
from crosspost.publishing import posts
from crosspost.publishing.comments import is_comment
from crosspost.publishing.outcome import Ready
from crosspost.publishing.replies import is_reply
from crosspost.status import FEED_PREFIX
from crosspost.store import Publication, Sent
from crosspost.store.handover import (
    Handover,
    record_and_hand_over,
    record_and_look,
    turn_connection,
    upcoming,
)

if TYPE_CHECKING:
    from crosspost.publishing.publisher import Publisher

__all__ = ["Chaining"]


class Chaining:
    """Per account, the next publication handed over and the oldest due one seen."""

    def __init__(self, publisher: Publisher) -> None:
        self.publisher = publisher
        #: Per account: the next publication, handed over when the last one was recorded.
        self._ready: dict[str, Ready] = {}
        #: Per account: its oldest due publication seen then (None: none was due).
        self._upcoming: dict[str, Publication | None] = {}
        #: Accounts of which the last record, in its own transaction, found nothing due.
        self._drained: set[str] = set()
        #: Per account in its turn: the connection its worker's transactions run on.
        self._connections: dict[str, Connection | None] = {}

    def take_ready(self, account: str) -> Ready | None:
        """The publication of ``account`` handed over to be sent next, if any."""
        return self._ready.pop(account, None)

    def drained(self, account: str) -> bool:
        """Whether the record of ``account``'s last post found none due after it (asked
        once: a row that comes due later is claimed by the next round)."""
        if account not in self._drained:
            return False
        self._drained.discard(account)
        return True

    def end_turn(self, account: str) -> Ready | None:
        """Forget what was seen of ``account``'s queue, hand back the connection of its
        turn; return a handed-over row not sent."""
        self._upcoming.pop(account, None)
        self._drained.discard(account)
        held = self._connections.pop(account, None)
        if held is not None:
            held.close()
        return self.take_ready(account)

    def _connection(self, account: str) -> Connection | None:
        """The connection of ``account``'s turn (see
        :func:`~crosspost.store.handover.turn_connection`), taken at its first transaction."""
        if account not in self._connections:
            self._connections[account] = turn_connection(self.publisher.store)
        return self._connections[account]

    def record_handing_over(self, row: Publication, outcome: Sent, now: datetime) -> bool:
        """Record ``outcome`` and, in the same transaction, start the account's next post."""
        assert row.id is not None
        publisher = self.publisher
        ready = self._next_ready(row, now)
        if ready is None:
            return self._record_looking(row, outcome, now)
        candidate, post = ready
        assert candidate.id is not None
        handover = Handover(candidate, publisher.lease, publisher.holder)
        limits = publisher.limits.new(row.account)
        handed = record_and_hand_over(
            publisher.store,
            row.id,
            publisher.worker_id,
            now,
            outcome,
            handover,
            limits,
            connection=self._connection(row.account),
        )
        if handed.recorded and limits is not None:
            publisher.limits.written(limits)
        if handed.sending is not None:
            self._ready[row.account] = Ready(handed.sending, post)
        self._upcoming[row.account] = handed.upcoming
        return handed.recorded

    def _record_looking(self, row: Publication, outcome: Sent, now: datetime) -> bool:
        """Record ``outcome`` and read the account's oldest due publication with it."""
        assert row.id is not None
        publisher = self.publisher
        limits = publisher.limits.new(row.account)
        looked = record_and_look(
            publisher.store,
            row.id,
            publisher.worker_id,
            now,
            outcome,
            row.account,
            limits,
            connection=self._connection(row.account),
        )
        if not looked.recorded:
            return False
        if limits is not None:
            publisher.limits.written(limits)
        if looked.upcoming is None:
            self._drained.add(row.account)
        self._upcoming[row.account] = looked.upcoming
        return True

    def _next_ready(
        self, row: Publication, now: datetime
    ) -> tuple[Publication, RenderedPost] | None:
        """The account's next due publication, rendered, if it may be sent straight away."""
        account = row.account
        if is_reply(row.entry) or not self._may_chain(account, now):
            return None
        if account in self._upcoming:
            candidate = self._upcoming.pop(account)
        else:
            candidate = upcoming(
                self.publisher.store, account, now, connection=self._connection(account)
            )
        if candidate is None or candidate.id == row.id:
            return None
        post = self._prepared(candidate)
        return (candidate, post) if post is not None else None

    def _may_chain(self, account: str, now: datetime) -> bool:
        """Whether ``account``'s next post may go out now, with nothing to look up first."""
        publisher = self.publisher
        spec = publisher.project.accounts.get(account)
        return (
            spec is not None
            and spec.spec.min_interval is None  # pacing is looked up after each post
            and spec.spec.max_per_day is None
            and not posts.awaited(publisher.project, account)  # its records wake announcements
            and publisher.may_publish(account, now)
        )

    def _prepared(self, row: Publication) -> RenderedPost | None:
        """``row`` rendered, when nothing needs writing before it is sent (else None:
        it is claimed and published the usual way, which writes that down)."""
        publisher = self.publisher
        project, store = publisher.project, publisher.store
        if is_comment(row.entry) or is_reply(row.entry) or row.entry.startswith(FEED_PREFIX):
            return None
        if project.queue_of(row.entry) is not None or publisher.preflight.gated():
            return None  # a slot's item is chosen, an approval looked up, on the claimed row
        try:
            item = posts.content(project, row)
            link = posts.article_link(project, store, row, item)
            if link.waits_for is not None or link.missing:
                return None
            return posts.render(project, store, row, item, link)
        except (RenderError, ConfigError, KeyError):
            return None
