"""Queries behind metric collection: due posts, snapshots, follower sets and inbox cursors.

Every function takes a :class:`~crosspost.store.Store`; times returned are
timezone-aware UTC. No network call ever happens inside a transaction here: the
collector asks the platform first and writes what it got in one short transaction.
The post snapshots are written here; follower sets are in :mod:`.collect_audience`
and the inbox in :mod:`.collect_inbox`, whose names this module exports too.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, func, insert
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from connectors.base import Metrics
from crosspost.status import Status
from crosspost.store import Store
from crosspost.store.models import MetricSnapshot, Publication, is_post
from crosspost.store.sessions import session_on, table_of, utc

__all__ = [
    "COUNTS",
    "Candidate",
    "NewSnapshot",
    "add_metric_snapshot",
    "add_metric_snapshots",
    "collect_candidates",
]

#: The counted fields of a metric snapshot; two snapshots with equal counts are "unchanged".
COUNTS = ("likes", "reposts", "replies", "quotes", "views", "bookmarks")


@dataclass(frozen=True)
class Candidate:
    """A published post that may need its metrics collected."""

    publication_id: int
    account: str
    remote_id: str
    published_at: datetime
    #: When its newest snapshot was taken, None when it has none yet.
    last_collected_at: datetime | None
    #: Remote ids of every post of its thread, ``remote_id`` first (just it for a plain post).
    parts: tuple[str, ...] = ()
    #: The furthest step a snapshot recorded covering (None: none recorded one).
    last_step: timedelta | None = None


# --------------------------------------------------------------------------- post metrics


def collect_candidates(
    store: Store, published_since: datetime, accounts: Collection[str] | None = None
) -> list[Candidate]:
    """Published posts with a remote id, published from ``published_since`` on, oldest first.

    Args:
        store: The store.
        published_since: Posts published before this are no longer collected.
        accounts: Only these accounts' posts (None: every account's).
    """
    query = _candidates_query(utc(published_since), accounts)
    with session_on(store.engine) as session:
        rows = session.execute(query).all()
    return [
        Candidate(
            int(pid or 0),
            account,
            str(remote_id),
            utc(published),
            utc(last) if last is not None else None,
            _parts(str(remote_id), thread_ids),
            timedelta(seconds=step) if step is not None else None,
        )
        for pid, account, remote_id, published, last, thread_ids, step in rows
        if published is not None
    ]


def _candidates_query(published_since: datetime, accounts: Collection[str] | None) -> Select[Any]:
    """Each published post's id, account, remote id, publishing time, thread parts and
    newest snapshot (time and step), oldest post first."""
    newest = (
        select(
            MetricSnapshot.publication_id,
            func.max(MetricSnapshot.collected_at).label("last"),
            func.max(MetricSnapshot.step).label("step"),
        )
        .group_by(col(MetricSnapshot.publication_id))
        .subquery()
    )
    query = (
        sa_select(
            col(Publication.id),
            col(Publication.account),
            col(Publication.remote_id),
            col(Publication.published_at),
            newest.c.last,
            col(Publication.thread_ids),
            newest.c.step,
        )
        .outerjoin(newest, newest.c.publication_id == Publication.id)
        .where(
            col(Publication.status) == Status.PUBLISHED,
            col(Publication.remote_id).is_not(None),
            col(Publication.published_at) >= published_since,
            is_post(),
        )
        .order_by(col(Publication.published_at), col(Publication.id))
    )
    if accounts is not None:
        query = query.where(col(Publication.account).in_(list(accounts)))
    return query


def _parts(remote_id: str, thread_ids: Sequence[Any] | None) -> tuple[str, ...]:
    later = [str(t) for t in thread_ids or [] if t and str(t) != remote_id]
    return (remote_id, *dict.fromkeys(later))


@dataclass(frozen=True, slots=True)
class NewSnapshot:
    """A metric snapshot to store: plain values, cheaper to build than a model row."""

    publication_id: int
    collected_at: datetime
    metrics: Metrics
    #: The step of ``metrics.after`` it covers, in seconds.
    step: int | None = None


def add_metric_snapshot(store: Store, snapshot: MetricSnapshot, thin: bool = True) -> int:
    """Store one snapshot (see :func:`add_metric_snapshots`).

    Returns:
        How many snapshots were thinned away (0 or 1).
    """
    counts = {name: getattr(snapshot, name) for name in COUNTS}
    metrics = Metrics(**counts, raw=snapshot.raw or {})
    new = NewSnapshot(snapshot.publication_id, snapshot.collected_at, metrics, snapshot.step)
    return add_metric_snapshots(store, [new], thin)


def add_metric_snapshots(store: Store, snapshots: Sequence[NewSnapshot], thin: bool = True) -> int:
    """Store a collect batch of snapshots in one transaction, thinning as it goes.

    With ``thin``, a publication's previous snapshot is dropped when it equals both
    its own predecessor and the new one, so a flat series keeps its first and last
    points. The newest snapshot is never dropped. The rows go in as one bulk insert.

    Returns:
        How many snapshots were thinned away.
    """
    rows = [_snapshot_row(snapshot) for snapshot in snapshots]
    if not rows:
        return 0
    table = table_of(MetricSnapshot)
    with session_on(store.engine) as session:
        dropped: list[int] = []
        if thin:
            rows, dropped = _thinned(rows, _tails(session, {r["publication_id"] for r in rows}))
        if dropped:
            session.execute(delete(table).where(table.c.id.in_(dropped)))
        session.execute(insert(table), rows)
        session.commit()
    return len(snapshots) - len(rows) + len(dropped)


def _snapshot_row(snapshot: NewSnapshot) -> dict[str, Any]:
    metrics = snapshot.metrics
    return {
        "publication_id": snapshot.publication_id,
        "collected_at": utc(snapshot.collected_at),
        "step": snapshot.step,
        "likes": metrics.likes,
        "reposts": metrics.reposts,
        "replies": metrics.replies,
        "quotes": metrics.quotes,
        "views": metrics.views,
        "bookmarks": metrics.bookmarks,
        "raw": dict(metrics.raw),
    }


@dataclass
class _Point:
    """A snapshot as thinning sees it: stored (``id``) or still to insert (``row``)."""

    collected_at: datetime
    counts: tuple[int | None, ...]
    id: int | None = None
    row: dict[str, Any] | None = None


def _tails(session: Session, publication_ids: set[int]) -> dict[int, list[_Point]]:
    """The two newest stored snapshots of each publication, oldest first."""
    table = table_of(MetricSnapshot)
    newest_first = (table.c.collected_at.desc(), table.c.id.desc())
    rank = func.row_number().over(partition_by=table.c.publication_id, order_by=newest_first)
    ranked = (
        sa_select(table.c.id, table.c.publication_id, table.c.collected_at, rank.label("rank"))
        .add_columns(*(table.c[name] for name in COUNTS))
        .where(table.c.publication_id.in_(publication_ids))
        .subquery()
    )
    query = sa_select(ranked).where(ranked.c.rank <= 2).order_by(ranked.c.rank.desc())
    tails: dict[int, list[_Point]] = {}
    for snapshot_id, publication_id, collected_at, _rank, *counts in session.execute(query):
        point = _Point(utc(collected_at), tuple(counts), id=snapshot_id)
        tails.setdefault(publication_id, []).append(point)
    return tails


def _thinned(
    rows: list[dict[str, Any]], tails: dict[int, list[_Point]]
) -> tuple[list[dict[str, Any]], list[int]]:
    """The rows still to insert and the stored ids to delete, the batch thinned in order."""
    dropped_ids: list[int] = []
    dropped_rows: set[int] = set()
    for row in rows:
        tail = tails.setdefault(row["publication_id"], [])
        new = _Point(row["collected_at"], tuple(row[name] for name in COUNTS), row=row)
        if len(tail) == 2 and tail[1].collected_at <= new.collected_at:
            if tail[0].counts == tail[1].counts == new.counts:
                middle = tail.pop()
                if middle.id is not None:
                    dropped_ids.append(middle.id)
                else:
                    dropped_rows.add(id(middle.row))
        tail.append(new)
        del tail[:-2]
    return [row for row in rows if id(row) not in dropped_rows], dropped_ids
