"""Queries behind metric collection: due posts, snapshots, follower sets and inbox cursors.

Every function takes a :class:`~crosspost.store.Store`; times returned are
timezone-aware UTC. No network call ever happens inside a transaction here: the
collector asks the platform first and writes what it got in one short transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, delete, func, insert
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from connectors.base import FollowerRef, InboxItem, Metrics
from crosspost.store import Store
from crosspost.store.db import insert_new
from crosspost.store.models import (
    AccountSnapshot,
    CollectCursor,
    Follower,
    FollowerEvent,
    FollowerList,
    InboxPoll,
    Interaction,
    MetricSnapshot,
    Publication,
    Status,
    is_post,
)

__all__ = [
    "COUNTS",
    "Candidate",
    "FollowerDiff",
    "InboxSchedule",
    "NewSnapshot",
    "add_metric_snapshot",
    "add_metric_snapshots",
    "apply_followers",
    "collect_candidates",
    "inbox_cursor",
    "inbox_schedules",
    "last_account_snapshots",
    "save_inbox",
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


@dataclass(frozen=True)
class FollowerDiff:
    """What changed in an account's follower set."""

    joins: list[FollowerRef] = field(default_factory=list)
    leaves: list[FollowerRef] = field(default_factory=list)
    #: The first list ever seen for the account: stored, no events written.
    seeded: bool = False


def _utc(moment: datetime) -> datetime:
    # SQLite hands datetimes back naive; the store only ever writes UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _session(store: Store) -> Session:
    return Session(store.engine, expire_on_commit=False)


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


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
            col(Publication.published_at) >= _utc(published_since),
            is_post(),
        )
        .order_by(col(Publication.published_at), col(Publication.id))
    )
    if accounts is not None:
        query = query.where(col(Publication.account).in_(list(accounts)))
    with _session(store) as session:
        rows = session.execute(query).all()
    return [
        Candidate(
            int(pid or 0),
            account,
            str(remote_id),
            _utc(published),
            _utc(last) if last is not None else None,
            _parts(str(remote_id), thread_ids),
            timedelta(seconds=step) if step is not None else None,
        )
        for pid, account, remote_id, published, last, thread_ids, step in rows
        if published is not None
    ]


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
    table = _table(MetricSnapshot)
    with _session(store) as session:
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
        "collected_at": _utc(snapshot.collected_at),
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
    table = _table(MetricSnapshot)
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
        point = _Point(_utc(collected_at), tuple(counts), id=snapshot_id)
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


# --------------------------------------------------------------------------- accounts


def last_account_snapshots(store: Store) -> dict[str, datetime]:
    """When each account's newest audience snapshot was taken."""
    query = select(AccountSnapshot.account, func.max(AccountSnapshot.collected_at)).group_by(
        col(AccountSnapshot.account)
    )
    with _session(store) as session:
        return {account: _utc(last) for account, last in session.exec(query).all() if last}


def apply_followers(
    store: Store, account: str, followers: Sequence[FollowerRef], now: datetime
) -> FollowerDiff:
    """Compare ``followers`` with the known set, record joins and leaves, store the new set.

    The first list ever read for an account only seeds the set: everyone in it
    was already following, so no join is recorded. Whether a list was read before
    is recorded (``follower_list``), never inferred from an empty set: an account
    with no followers, or with none left, counts its next followers as joins.
    Everything is written in one transaction, joins, leaves and events as bulk statements.
    """
    now = _utc(now)
    current = {ref.id: ref for ref in followers}
    table = _table(Follower)
    with _session(store) as session:
        listed = session.get(FollowerList, account)
        seeded = listed is None
        known_query = sa_select(table.c.follower_id, table.c.handle).where(
            table.c.account == account
        )
        known: dict[str, str] = {fid: handle for fid, handle in session.execute(known_query)}
        joins = [ref for fid, ref in current.items() if fid not in known]
        leaves = [FollowerRef(fid, handle) for fid, handle in known.items() if fid not in current]
        if joins:
            session.execute(insert(table), [_follower(account, ref, now) for ref in joins])
        for chunk in _chunks([ref.id for ref in leaves]):
            session.execute(
                delete(table).where(table.c.account == account, table.c.follower_id.in_(chunk))
            )
        if listed is None:
            listed = FollowerList(account=account, first_listed_at=now, last_listed_at=now)
        else:
            events = _events(account, joins, "join", now) + _events(account, leaves, "leave", now)
            if events:
                session.execute(insert(_table(FollowerEvent)), events)
        listed.last_listed_at = now
        session.add(listed)
        session.commit()
    return FollowerDiff([] if seeded else joins, [] if seeded else leaves, seeded)


def _follower(account: str, ref: FollowerRef, now: datetime) -> dict[str, Any]:
    return {"account": account, "follower_id": ref.id, "handle": ref.handle, "first_seen_at": now}


def _chunks(values: list[str], size: int = 5000) -> Iterable[list[str]]:
    # Bound the bound parameters of one statement (SQLite allows 32,766).
    return (values[start : start + size] for start in range(0, len(values), size))


def _events(
    account: str, refs: Iterable[FollowerRef], kind: str, now: datetime
) -> list[dict[str, Any]]:
    return [
        {
            "account": account,
            "follower_id": ref.id,
            "handle": ref.handle,
            "kind": kind,
            "observed_at": now,
        }
        for ref in refs
    ]


# --------------------------------------------------------------------------- inbox


def inbox_cursor(store: Store, account: str, kind: str = "inbox") -> str | None:
    """Where reading ``account``'s inbox stopped last time, None before the first read."""
    with _session(store) as session:
        row = session.get(CollectCursor, (account, kind))
        return row.cursor if row is not None else None


@dataclass(frozen=True)
class InboxSchedule:
    """When an account's inbox is read next, and the interval that led there."""

    every: timedelta
    next_at: datetime


def inbox_schedules(store: Store) -> dict[str, InboxSchedule]:
    """The stored inbox schedule of every account read so far, in one query."""
    with _session(store) as session:
        rows = session.exec(select(InboxPoll)).all()
    return {
        row.account: InboxSchedule(timedelta(seconds=row.every_seconds), _utc(row.next_at))
        for row in rows
    }


def save_inbox(
    store: Store,
    account: str,
    platform: str,
    items: Sequence[InboxItem],
    cursor: str | None,
    now: datetime,
    kind: str = "inbox",
    schedule: InboxSchedule | None = None,
) -> int:
    """Store new interactions, move the cursor and the next read, in one transaction.

    An interaction already stored (same account and remote id) is left alone, so
    reading the same page twice stores nothing twice. The interactions go in as
    one bulk insert.

    Returns:
        How many interactions were new.
    """
    now = _utc(now)
    with _session(store) as session:
        links = publication_links(session, account, {i.in_reply_to for i in items} - {None})
        values = [interaction_row(account, platform, item, links, now) for item in items]
        inserted = insert_new(session, _table(Interaction), values, ["account", "remote_id"])
        if cursor is not None:
            _set_cursor(session, account, kind, cursor, now)
        if schedule is not None:
            every = int(schedule.every.total_seconds())
            session.merge(InboxPoll(account=account, every_seconds=every, next_at=schedule.next_at))
        session.commit()
    return inserted


def interaction_row(
    account: str, platform: str, item: InboxItem, links: dict[str, int], now: datetime
) -> dict[str, Any]:
    return {
        "account": account,
        "platform": platform,
        "remote_id": item.remote_id,
        "kind": item.kind,
        "author": item.author,
        "author_id": item.author_id,
        "text": item.text,
        "url": item.url,
        "created_at": _utc(item.created_at),
        "in_reply_to": item.in_reply_to,
        "publication_id": links.get(item.in_reply_to or ""),
        "collected_at": now,
        # a connector's question mark is kept in raw: no column for one flag
        "raw": {**item.raw, "question": True} if item.question else dict(item.raw),
    }


def publication_links(
    session: Session, account: str, remote_ids: set[str | None]
) -> dict[str, int]:
    """Publication id for each remote id that is one of ``account``'s posts or thread parts."""
    wanted = {r for r in remote_ids if r}
    if not wanted:
        return {}
    query = select(Publication.id, Publication.remote_id, Publication.thread_ids).where(
        Publication.account == account,
        Publication.status == Status.PUBLISHED,
        col(Publication.remote_id).is_not(None),
        is_post(),
    )
    links: dict[str, int] = {}
    for pid, remote_id, thread_ids in session.exec(query).all():
        for rid in [remote_id, *(thread_ids or [])]:
            if rid in wanted and pid is not None:
                links.setdefault(str(rid), pid)
    return links


def _set_cursor(session: Session, account: str, kind: str, cursor: str, now: datetime) -> None:
    row = session.get(CollectCursor, (account, kind))
    if row is None:
        row = CollectCursor(account=account, kind=kind, cursor=cursor, updated_at=now)
    row.cursor, row.updated_at = cursor, now
    session.add(row)
