"""The states of a publication and the entry prefixes, without the database.

The CLI and ``check`` read these at start-up; importing the store would pull in SQLAlchemy.
"""

from __future__ import annotations

import enum

__all__ = [
    "COMMENT_PREFIX",
    "FEED_PREFIX",
    "NEXT_SLOT",
    "NOTIFY_PREFIX",
    "ONE_OFF_PREFIX",
    "QUEUE_PREFIX",
    "REPLY_PREFIX",
    "UNSETTLED",
    "Status",
]

#: Entries of one-off publications (``crosspost publish``) start with this.
ONE_OFF_PREFIX = "publish:"
#: Entries of notifications (``notify:`` in the schedule) start with this.
NOTIFY_PREFIX = "notify:"
#: Entries of answers to inbox items (``crosspost reply``): ``reply:<interaction id>``.
REPLY_PREFIX = "reply:"
#: Entries of posts made from the entries of a feed (``feeds:`` in the schedule).
FEED_PREFIX = "feed:"
#: Entries of evergreen queues (``queues:``) start with this; so does the content id their
#: rows carry until the item for the slot is chosen (content ids cannot contain ``:``).
QUEUE_PREFIX = "queue:"
#: Entries of first comments start with this, followed by the entry of their post.
COMMENT_PREFIX = "comment:"
#: The occurrence of the rows of an ``at: next-slot`` entry: one per account, once.
NEXT_SLOT = "next-slot"


class Status(enum.StrEnum):
    """Where a publication is in its life (see docs/states.md)."""

    #: Waiting for its time (or for a retry after ``next_attempt_at``).
    PLANNED = "planned"
    #: Its entry needs approval and its content has none yet: never sent until approved;
    #: its ``missed`` policy applies when its time passes first.
    AWAITING_APPROVAL = "awaiting-approval"
    #: Claimed by a worker whose lease runs until ``claimed_until``.
    PUBLISHING = "publishing"
    #: The platform has it; ``remote_id`` and ``url`` say where.
    PUBLISHED = "published"
    #: Refused or out of retries; ``error`` says why. Never retried by itself.
    FAILED = "failed"
    #: Its time passed while nothing was running, beyond the entry's grace.
    MISSED = "missed"
    #: It may or may not have gone out; a person (or reconciliation) decides.
    UNKNOWN = "unknown"
    #: Its entry was removed or changed before it was due.
    CANCELLED = "cancelled"
    #: Deleted from the platform by ``crosspost retract``; ids and URL kept as history.
    RETRACTED = "retracted"

    def __str__(self) -> str:
        return self.value


#: A publication in one of these may still go out (or be found out by reconciliation):
#: an announcement of its article waits for it.
UNSETTLED = frozenset({Status.PLANNED, Status.PUBLISHING, Status.UNKNOWN})
