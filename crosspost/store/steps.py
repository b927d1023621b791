"""The steps of publications that go out in steps, written as they happen.

Every record is one short transaction that also checks, and renews, the
worker's claim on the publication: a worker whose lease ran out (and whose
publication another worker may be resuming) cannot record a step, so it
learns to stop before it sends anything more.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from crosspost.store import Store
from crosspost.store.conditions import held_by
from crosspost.store.db import dialect_module
from crosspost.store.models import Publication, PublicationStep

__all__ = ["load_steps", "record_step", "step_counts"]


def load_steps(store: Store, publication_id: int) -> dict[str, tuple[str, str]]:
    """Every step recorded for the publication: name → (state, detail)."""
    query = select(PublicationStep).where(col(PublicationStep.publication_id) == publication_id)
    with Session(store.engine) as session:
        return {step.name: (step.state, step.detail) for step in session.exec(query).all()}


def step_counts(store: Store, publication_id: int) -> Counter[str]:
    """How many steps of the publication are in each state."""
    return Counter(state for state, _detail in load_steps(store, publication_id).values())


def record_step(
    store: Store,
    publication_id: int,
    worker: str,
    name: str,
    state: str,
    detail: str,
    now: datetime,
    lease: timedelta,
) -> bool:
    """Record one step, and renew the claim, if ``worker`` still holds the publication.

    Returns:
        False (and nothing written) when the publication is no longer ``worker``'s.
    """
    claim = (
        update(Publication)
        .where(*held_by(publication_id, worker))
        .values(claimed_until=now + lease, updated_at=now)
    )
    values = {"state": state, "detail": detail, "updated_at": now}
    with Session(store.engine) as session:
        held = session.execute(claim)
        if not held.rowcount:  # type: ignore[attr-defined]
            session.rollback()
            return False
        dialect = dialect_module(session.get_bind().dialect.name)
        table = PublicationStep.__table__  # type: ignore[attr-defined]
        upsert = (
            dialect.insert(table)
            .values(publication_id=publication_id, name=name, **values)
            .on_conflict_do_update(index_elements=["publication_id", "name"], set_=values)
        )
        session.execute(upsert)
        session.commit()
    return True
