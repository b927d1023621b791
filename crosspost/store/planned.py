"""A publication written down ahead of its time: its row, its first values, its key.

A publication is written once under its key (entry, occurrence, account): writing
the same row again adds nothing, so a plan can be written as often as it is read.
A row a schedule change cancelled carries :data:`CANCELLED_BY_SYNC`, and only such
rows come back when the entry does (a person's cancel stays).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crosspost.store.models import Status

__all__ = ["CANCELLED_BY_SYNC", "PUBLICATION_KEY", "PlannedRow", "planned_values"]

#: A publication's key: written down once, published once.
PUBLICATION_KEY = ["entry", "occurrence", "account"]
#: The note on rows cancelled by a schedule change; only these come back when the entry does.
CANCELLED_BY_SYNC = "the schedule entry changed or was removed before it was due"


@dataclass(frozen=True)
class PlannedRow:
    """A publication to write down ahead of its time."""

    entry: str
    occurrence: str
    account: str
    content_id: str
    due_at: datetime
    expires_at: datetime
    #: One-offs made from a Markdown file: that file, to render it again later.
    source: str | None = None
    #: Notifications: the message itself.
    message: str | None = None


def planned_values(rows: Sequence[PlannedRow], now: datetime) -> list[dict[str, Any]]:
    """The columns of ``rows`` as new, never-tried ``planned`` publications."""
    fresh = {"status": Status.PLANNED, "attempts": 0, "created_at": now, "updated_at": now}
    return [{**row.__dict__, **fresh} for row in rows]
