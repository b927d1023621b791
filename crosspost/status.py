"""The states of a publication and the entry prefixes, without the database.

The CLI and ``check`` read these at start-up; importing the store would pull in SQLAlchemy.
"""

from __future__ import annotations

import enum

__all__ = ["NOTIFY_PREFIX", "ONE_OFF_PREFIX", "Status"]

#: Entries of one-off publications (``crosspost publish``) start with this.
ONE_OFF_PREFIX = "publish:"
#: Entries of notifications (``notify:`` in the schedule) start with this.
NOTIFY_PREFIX = "notify:"


class Status(enum.StrEnum):
    """Where a publication is in its life (see docs/states.md)."""

    #: Waiting for its time (or for a retry after ``next_attempt_at``).
    PLANNED = "planned"
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
