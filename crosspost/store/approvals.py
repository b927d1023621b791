"""Queries behind the approval gate (:mod:`crosspost.planning.approval`).

Approvals are kept by content id and hash. A publication that needs an approval
its content lacks is ``awaiting-approval`` instead of ``planned``: claims never
take it, and it becomes ``planned`` again once the content is approved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import literal, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from crosspost.status import (
    COMMENT_PREFIX,
    FEED_PREFIX,
    NOTIFY_PREFIX,
    QUEUE_PREFIX,
    REPLY_PREFIX,
    Status,
)
from crosspost.store import Store
from crosspost.store.db import insert_new
from crosspost.store.models import Approval, Publication
from crosspost.store.sessions import update_chunked

__all__ = ["GateRow", "approved_hashes", "gate_rows", "record_approval", "set_gate"]


@dataclass(frozen=True)
class GateRow:
    """A never-tried publication whose state depends on an approval."""

    id: int
    entry: str
    account: str
    content_id: str
    source: str | None
    status: Status
    due_at: datetime


def record_approval(
    store: Store, content_id: str, content_hash: str, approved_by: str, now: datetime
) -> bool:
    """Record that ``approved_by`` approved this content as it reads now; False if already."""
    table = Approval.__table__  # type: ignore[attr-defined]
    row = {
        "content_id": content_id,
        "content_hash": content_hash,
        "approved_by": approved_by,
        "approved_at": now,
    }
    with Session(store.engine) as session:
        new = insert_new(session, table, [row], ["content_id", "content_hash"])
        session.commit()
    return bool(new)


def approved_hashes(store: Store) -> dict[tuple[str, str], str]:
    """Who approved each ``(content id, hash)``."""
    with Session(store.engine) as session:
        rows = session.exec(select(Approval)).all()
    return {(row.content_id, row.content_hash): row.approved_by for row in rows}


def gate_rows(store: Store, only_awaiting: bool = False) -> list[GateRow]:
    """Never-tried rows that are planned or awaiting approval, posts only (not queue rows,
    whose item is chosen among approved ones, nor notifications or first comments).

    ``only_awaiting``: those awaiting approval (when nothing asks for approval any more).
    """
    statuses = (
        [Status.AWAITING_APPROVAL] if only_awaiting else [Status.PLANNED, Status.AWAITING_APPROVAL]
    )
    columns: list[Any] = [col(Publication.id), col(Publication.entry), col(Publication.account)]
    columns += [col(Publication.content_id), col(Publication.source), col(Publication.status)]
    columns.append(Publication.due_at)
    query = sa_select(*columns).where(
        col(Publication.status).in_(statuses),
        col(Publication.attempts) == 0,
        col(Publication.entry).not_like(f"{NOTIFY_PREFIX}%"),
        col(Publication.entry).not_like(f"{COMMENT_PREFIX}%"),
        col(Publication.entry).not_like(f"{QUEUE_PREFIX}%"),
        col(Publication.entry).not_like(f"{REPLY_PREFIX}%"),
        col(Publication.entry).not_like(f"{FEED_PREFIX}%"),
    )
    with Session(store.engine) as session:
        rows = session.execute(query.order_by(col(Publication.due_at))).all()
    return [
        GateRow(int(i or 0), e, a, c, s, Status(st), d if d.tzinfo else d.replace(tzinfo=UTC))
        for i, e, a, c, s, st, d in rows
    ]


def set_gate(
    store: Store, awaiting: Iterable[int], planned: Iterable[int], now: datetime, note: str
) -> tuple[int, int]:
    """Hold rows for approval and release approved ones, each only from the state it was
    read in and never once tried; returns how many changed each way.

    A held row's ``error`` is ``note`` followed by its content id.
    """
    untried = col(Publication.attempts) == 0
    hold = (
        update(Publication)
        .where(col(Publication.status) == Status.PLANNED, untried)
        .values(
            status=Status.AWAITING_APPROVAL,
            error=literal(note).concat(col(Publication.content_id)),
            updated_at=now,
        )
    )
    release = (
        update(Publication)
        .where(col(Publication.status) == Status.AWAITING_APPROVAL, untried)
        .values(status=Status.PLANNED, error=None, updated_at=now)
    )
    with Session(store.engine) as session:
        held = update_chunked(session, hold, awaiting)
        released = update_chunked(session, release, planned)
        session.commit()
    return held, released
