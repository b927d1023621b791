"""Queries behind evergreen queues and slots (:mod:`crosspost.planning.slots`).

A queue's rows carry the placeholder content id ``queue:<queue id>`` until the
item for their slot is chosen, just before the first send; the chosen id is
written on the claimed row, so a retry or a reconciliation renders the same item.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

# the rows' states and shapes are shared with check's read of a SQLite file, without the ORM
from crosspost.history import NOT_A_TURN, OCCUPYING
from crosspost.history_rows import Booked, Turn
from crosspost.status import FEED_PREFIX, NEXT_SLOT, ONE_OFF_PREFIX, QUEUE_PREFIX, Status
from crosspost.store import Store
from crosspost.store.conditions import held_by
from crosspost.store.models import Publication
from crosspost.store.sessions import utc

__all__ = [
    "busy_rows",
    "choose_content",
    "pending_queue_rows",
    "pinned_slots",
    "queue_turns",
]


def queue_turns(
    store: Store, entries: Collection[str], accounts: Collection[str] = ()
) -> list[Turn]:
    """The items the queue entries ``entries`` chose so far, in due order.

    A failed post counts as a turn, so a broken item does not hold the rotation up.
    """
    if not entries:
        return []
    query = select(
        Publication.entry, Publication.account, Publication.content_id, Publication.due_at
    ).where(
        col(Publication.entry).in_(sorted(entries)),
        col(Publication.content_id).not_like(f"{QUEUE_PREFIX}%"),
        col(Publication.status).not_in(NOT_A_TURN),
    )
    if accounts:
        query = query.where(col(Publication.account).in_(sorted(accounts)))
    query = query.order_by(col(Publication.due_at), col(Publication.id))
    with Session(store.engine) as session:
        rows = session.exec(query).all()
    return [Turn(e, a, c, utc(d)) for e, a, c, d in rows]


def busy_rows(
    store: Store,
    low: datetime,
    high: datetime,
    pinned_entries: Iterable[str],
    accounts: Collection[str] = (),
) -> list[Booked]:
    """One-offs, a feed's posts and pinned ``next-slot`` rows due in ``[low, high]`` that
    hold their time (the files cannot say when those are)."""
    query = select(Publication.entry, Publication.account, Publication.due_at).where(
        col(Publication.due_at) >= low,
        col(Publication.due_at) <= high,
        col(Publication.status).in_(OCCUPYING),
        or_(
            col(Publication.entry).like(f"{ONE_OFF_PREFIX}%"),
            col(Publication.entry).like(f"{FEED_PREFIX}%"),
            col(Publication.entry).in_(sorted(set(pinned_entries))),
        ),
    )
    if accounts:
        query = query.where(col(Publication.account).in_(sorted(accounts)))
    with Session(store.engine) as session:
        order = (col(Publication.due_at), col(Publication.entry), col(Publication.account))
        rows = session.exec(query.order_by(*order)).all()
    return [Booked(entry, account, utc(due)) for entry, account, due in rows]


def pinned_slots(store: Store, entries: Collection[str]) -> dict[tuple[str, str], datetime]:
    """When each ``at: next-slot`` entry goes out per ``(entry, account)``, once planned."""
    if not entries:
        return {}
    query = select(Publication.entry, Publication.account, Publication.due_at).where(
        col(Publication.entry).in_(sorted(entries)),
        col(Publication.occurrence) == NEXT_SLOT,
    )
    with Session(store.engine) as session:
        rows = session.exec(query).all()
    return {(entry, account): utc(due) for entry, account, due in rows}


def pending_queue_rows(
    store: Store, entries: Collection[str], now: datetime
) -> list[tuple[str, str, str, datetime]]:
    """Queue rows due before ``now`` whose item is not chosen yet and that may still go out:
    ``(entry, occurrence, account, due_at)``, in due order."""
    if not entries:
        return []
    query = select(
        Publication.entry, Publication.occurrence, Publication.account, Publication.due_at
    ).where(
        col(Publication.entry).in_(sorted(entries)),
        col(Publication.status) == Status.PLANNED,
        col(Publication.content_id).like(f"{QUEUE_PREFIX}%"),
        col(Publication.due_at) < now,
        col(Publication.expires_at) >= now,
    )
    with Session(store.engine) as session:
        rows = session.exec(query.order_by(col(Publication.due_at), col(Publication.id))).all()
    return [(e, o, a, utc(d)) for e, o, a, d in rows]


def choose_content(
    store: Store, publication_id: int, worker: str, content_id: str, now: datetime
) -> bool:
    """Write the item chosen for a claimed queue row; False if the claim or the choice is gone."""
    statement = (
        update(Publication)
        .where(
            *held_by(publication_id, worker), col(Publication.content_id).like(f"{QUEUE_PREFIX}%")
        )
        .values(content_id=content_id, updated_at=now)
    )
    with Session(store.engine) as session:
        result = session.execute(statement)
        session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]
