"""Writing the plan down: publications recorded ahead of their time, and taken back.

A publication is written once under its key (entry, occurrence, account): writing
the same row again adds nothing, so a plan can be written as often as it is read.
A row a schedule change cancelled carries :data:`CANCELLED_BY_SYNC`, and only such
rows come back when the entry does (a person's cancel stays).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from crosspost.history import chunked
from crosspost.status import Status
from crosspost.store.db import insert_new
from crosspost.store.models import Notification, Publication
from crosspost.store.sessions import session_on

__all__ = [
    "CANCELLED_BY_SYNC",
    "PUBLICATION_KEY",
    "PlannedRow",
    "add_notification",
    "add_planned",
    "planned_values",
]

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


def add_planned(engine: Engine, rows: Sequence[PlannedRow], now: datetime | None) -> int:
    """Write down the publications of ``rows`` that are not there yet; how many were new."""
    if not rows:
        return 0
    values = planned_values(rows, now or datetime.now(UTC))
    table = Publication.__table__  # type: ignore[attr-defined]
    inserted = 0
    with session_on(engine) as session:
        for chunk in chunked(values):
            inserted += insert_new(session, table, chunk, PUBLICATION_KEY)
        session.commit()
    return inserted


def add_notification(
    engine: Engine, key: str, message: str, rows: Sequence[PlannedRow], now: datetime
) -> bool:
    """Record problem ``key`` and write down ``rows``, its messages, unless ``key`` was told."""
    notification = Notification.__table__  # type: ignore[attr-defined]
    publication = Publication.__table__  # type: ignore[attr-defined]
    told = [{"key": key, "sent_at": now, "message": message}]
    with session_on(engine) as session:
        new = insert_new(session, notification, told, ["key"])
        if new:
            insert_new(session, publication, planned_values(rows, now), PUBLICATION_KEY)
        session.commit()
    return bool(new)
