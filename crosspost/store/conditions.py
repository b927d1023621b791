"""SQL conditions on ``publication`` rows that several of the store's statements share.

One rule, one place: a claim of due rows (:mod:`crosspost.store.dispatching`) and the
claim of an account's next row in a handover (:mod:`crosspost.store.handover`) must
agree on what is due; every write under a worker's claim (an outcome, a step, a
queue's choice) checks the claim the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import exists, or_
from sqlalchemy.orm import aliased
from sqlmodel import col

from crosspost.status import COMMENT_PREFIX, Status
from crosspost.store.models import Publication, PublicationStep

__all__ = ["begun", "due", "held_by", "in_flight", "not_a_comment"]


def held_by(publication_id: int, worker: str) -> list[Any]:
    """SQL conditions: the publication is being published under ``worker``'s claim."""
    return [
        col(Publication.id) == publication_id,
        col(Publication.status) == Status.PUBLISHING,
        col(Publication.claimed_by) == worker,
    ]


def due(now: datetime, skip_accounts: Iterable[str]) -> list[Any]:
    """Planned rows whose time (or retry time) has come and whose grace has not run out."""
    conditions = [
        col(Publication.status) == Status.PLANNED,
        col(Publication.due_at) <= now,
        or_(
            col(Publication.next_attempt_at).is_(None),
            col(Publication.next_attempt_at) <= now,
        ),
        or_(col(Publication.attempts) > 0, col(Publication.expires_at) >= now, begun()),
    ]
    skip = list(skip_accounts)
    # none to skip, no condition: a statement without an expanding IN compiles to plain SQL
    return [*conditions, col(Publication.account).not_in(skip)] if skip else conditions


def in_flight() -> Any:
    """Another post of the row's account is being published, by this daemon or another one:
    an account's posts go out one after the other (order, pacing), whichever daemon sends."""
    other = aliased(Publication)
    return exists().where(
        col(other.account) == col(Publication.account),
        col(other.status) == Status.PUBLISHING,
    )


def begun() -> Any:
    """The publication has recorded steps: it has begun to go out (``store.steps``)."""
    return exists().where(col(PublicationStep.publication_id) == col(Publication.id))


def not_a_comment() -> Any:
    """A first comment is part of its post: it does not count against the account's pacing."""
    return col(Publication.entry).not_like(f"{COMMENT_PREFIX}%")
