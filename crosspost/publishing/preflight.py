"""What is settled on a claimed publication before it is rendered and sent.

A queue's slot gets its item (:func:`crosspost.planning.slots.decide`, written on the
row, so a retry sends the same one; an empty slot is ``cancelled`` with the reason); a
publication whose content lacks a needed approval goes back to ``awaiting-approval``;
an announcement whose article is not out yet waits for it, without using its grace.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from crosspost.errors import ConfigError
from crosspost.loading.content_item import ContentItem
from crosspost.loading.project import Project
from crosspost.planning.approval import AWAITING_NOTE, Approvals, gated_anywhere
from crosspost.planning.slots import decide
from crosspost.publishing.outcome import Outcome, outcome_of
from crosspost.publishing.posts import ArticleLink
from crosspost.rendering.articles import WAIT_POLL
from crosspost.status import Status
from crosspost.store import Awaiting, Ended, Publication, Requeued
from crosspost.store.sessions import utc
from crosspost.store.slots import choose_content

if TYPE_CHECKING:
    from crosspost.publishing.publisher import Publisher

__all__ = ["Preflight"]

# the publisher's logger: its records read as they did before this part moved out
log = logging.getLogger("crosspost.publishing.publisher")


class Preflight:
    """Chooses a slot's item, checks approvals and makes announcements wait."""

    def __init__(self, publisher: Publisher) -> None:
        self.publisher = publisher
        self._gated_for: tuple[Project, bool] | None = None

    def choose_item(self, row: Publication) -> Outcome | None:
        """A queue's slot gets its item now, once: a retry sends the one written on the row."""
        publisher = self.publisher
        project, store = publisher.project, publisher.store
        queue = project.queue_of(row.entry)
        if queue is None or row.content_id != queue.placeholder:
            return None
        due = utc(row.due_at)
        choice = decide(project, store, row.entry, row.occurrence, row.account, due)
        if choice.content is None:
            log.info("%s for %s stays empty: %s", row.entry, row.account, choice.why)
            return publisher.record(row, Ended(Status.CANCELLED, choice.why))
        assert row.id is not None
        if not choose_content(
            store, row.id, publisher.worker_id, choice.content, publisher.clock()
        ):
            log.error("lost the lease on %s for %s before choosing", row.entry, row.account)
            return outcome_of(row, Status.PUBLISHING)
        log.info("%s for %s: %s (%s)", row.entry, row.account, choice.content, choice.why)
        row.content_id = choice.content
        return None

    def gate(self, row: Publication, item: ContentItem | None) -> Outcome | None:
        """Hand the row back to ``awaiting-approval`` if its content lacks a needed approval."""
        publisher = self.publisher
        project = publisher.project
        if not self.gated() or project.queue_of(row.entry) is not None:
            return None  # a queue chooses among approved items only
        try:
            item = item or project.resolve_content(row.source or row.content_id)
        except ConfigError:
            return None  # rendering fails it, with the reason
        if not Approvals.read(publisher.store).lacking(project, row.entry, row.account, item):
            return None
        assert row.id is not None
        note = f"{AWAITING_NOTE}{item.id}"
        log.warning("%s for %s: %s", row.entry, row.account, note)
        publisher.store.finish(row.id, publisher.worker_id, publisher.clock(), Awaiting(note))
        return outcome_of(row, Status.AWAITING_APPROVAL, error=note)

    def gated(self) -> bool:
        """Whether the project asks for approval anywhere (looked up once per project)."""
        project = self.publisher.project
        if self._gated_for is None or self._gated_for[0] is not project:
            self._gated_for = (project, gated_anywhere(project))
        return self._gated_for[1]

    def wait(self, row: Publication, link: ArticleLink) -> Outcome:
        """Put an announcement back until its article is out; a wait does not use its grace."""
        assert row.id is not None
        publisher = self.publisher
        now = publisher.clock()
        at = now + WAIT_POLL
        grace = utc(row.expires_at) - utc(row.due_at)
        expires = max(utc(row.expires_at), at + grace)
        log.info("%s for %s: %s", row.entry, row.account, link.reason)
        later = Requeued(at, link.reason, True, waits_for=link.waits_for, expires_at=expires)
        publisher.store.finish(row.id, publisher.worker_id, now, later)
        return outcome_of(row, Status.PLANNED, error=link.reason)
