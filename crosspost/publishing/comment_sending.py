"""Sending a first comment right after its post (:mod:`crosspost.publishing.comments`).

The comment is written down with its post, in the same transaction; it is then claimed
and sent at once, like any publication, through the connector's ``publish_comment``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from connectors.base import Capability, Commentable
from crosspost.errors import ConfigError, RenderError
from crosspost.publishing.comments import (
    comment_entry,
    first_comment_row,
    is_comment,
    parent_entry,
    parent_published,
    render_comment,
)
from crosspost.publishing.outcome import Outcome, idempotency_key
from crosspost.status import Status
from crosspost.store import PlannedRow, Publication

if TYPE_CHECKING:
    from crosspost.publishing.publisher import Publisher

__all__ = ["CommentSender"]


class CommentSender:
    """Writes down a post's first comment with it, and sends the comment after it."""

    def __init__(self, publisher: Publisher) -> None:
        self.publisher = publisher
        #: Posts whose first comment was written down with them, to be sent next.
        self._written: set[int] = set()

    def written(self, row: Publication) -> None:
        """``row`` was recorded with the first comment :meth:`follow_up` gave for it."""
        if row.id is not None:
            self._written.add(row.id)

    def follow_up(self, row: Publication, now: datetime) -> list[PlannedRow]:
        """The first comment to write down with a post recorded as published."""
        if is_comment(row.entry) or row.message is not None:
            return []
        project = self.publisher.project
        try:
            item = project.resolve_content(row.source or row.content_id)
        except ConfigError:
            return []
        return first_comment_row(project, row, item, now)

    def send_after(self, row: Publication) -> Outcome | None:
        """Send the first comment just written down for ``row``, if it has one."""
        publisher = self.publisher
        if row.id not in self._written:
            return None  # none was written (one left by a crash is due: claimed as usual)
        self._written.discard(row.id)
        comment = publisher.store.find(comment_entry(row.entry), row.occurrence, row.account)
        if comment is None or comment.id is None or comment.status != Status.PLANNED:
            return None
        claimed = publisher.store.claim(
            comment.id, publisher.worker_id, publisher.lease, publisher.clock(), publisher.holder
        )
        return self.publish(claimed) if claimed is not None else None

    def publish(self, row: Publication) -> Outcome:
        """Post a first comment under its post, through the connector's ``publish_comment``."""
        publisher = self.publisher
        parent = publisher.store.find(parent_entry(row.entry), row.occurrence, row.account)
        under = parent_published(parent) if parent is not None else None
        if parent is None or under is None or parent.status != Status.PUBLISHED:
            return publisher.record_failure(row, "its post is not published (any more)")
        try:
            post = render_comment(publisher.project, row, parent)
        except (RenderError, ConfigError, KeyError) as exc:
            return publisher.record_failure(row, f"cannot render: {exc}")
        connector = publisher.project.connector(row.account)
        if Capability.FIRST_COMMENT not in connector.capabilities or not isinstance(
            connector, Commentable
        ):
            return publisher.record_failure(row, f"{connector.name} cannot post first comments")
        key = idempotency_key(row.entry, row.occurrence, row.account)
        return publisher.deliver(
            row, post, key, lambda: connector.publish_comment(post, under, key)
        )
