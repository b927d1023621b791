"""Queries behind metric collection: due posts, snapshots, follower sets and inbox cursors.

Every function takes a :class:`~crosspost.store.Store`; times returned are
timezone-aware UTC. No network call ever happens inside a transaction here: the
collector asks the platform first and writes what it got in one short transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from connectors.base import FollowerRef, InboxItem
from crosspost.store import Store
from crosspost.store.db import insert_new
from crosspost.store.models import (
    AccountSnapshot,
    CollectCursor,
    Follower,
    FollowerEvent,
    FollowerList,
    Interaction,
    MetricSnapshot,
    Publication,
    Status,
)

__all__ = [
    "COUNTS",
    "Candidate",
    "FollowerDiff",
    "add_metric_snapshot",
    "apply_followers",
    "collect_candidates",
    "inbox_cursor",
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


# --------------------------------------------------------------------------- post metrics


def collect_candidates(store: Store, published_since: datetime) -> list[Candidate]:
    """Published posts with a remote id, published from ``published_since`` on, oldest first.

    Args:
        store: The store.
        published_since: Posts published before this are no longer collected.
    """
    newest = (
        select(MetricSnapshot.publication_id, func.max(MetricSnapshot.collected_at).label("last"))
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
        )
        .outerjoin(newest, newest.c.publication_id == Publication.id)
        .where(
            col(Publication.status) == Status.PUBLISHED.value,
            col(Publication.remote_id).is_not(None),
            col(Publication.published_at) >= _utc(published_since),
        )
        .order_by(col(Publication.published_at), col(Publication.id))
    )
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
        )
        for pid, account, remote_id, published, last, thread_ids in rows
        if published is not None
    ]


def _parts(remote_id: str, thread_ids: Sequence[Any] | None) -> tuple[str, ...]:
    later = [str(t) for t in thread_ids or [] if t and str(t) != remote_id]
    return (remote_id, *dict.fromkeys(later))


def add_metric_snapshot(store: Store, snapshot: MetricSnapshot, thin: bool = True) -> int:
    """Store one snapshot; with ``thin``, drop the one before it if it changed nothing.

    The previous snapshot is dropped when it equals both its own predecessor and
    the new one, so a flat series keeps its first and last points. The newest
    snapshot is never dropped.

    Returns:
        How many snapshots were thinned away (0 or 1).
    """
    snapshot.collected_at = _utc(snapshot.collected_at)
    with _session(store) as session:
        session.add(snapshot)
        session.flush()
        thinned = _thin(session, snapshot) if thin else 0
        session.commit()
    return thinned


def _thin(session: Session, newest: MetricSnapshot) -> int:
    query = (
        select(MetricSnapshot)
        .where(MetricSnapshot.publication_id == newest.publication_id)
        .order_by(col(MetricSnapshot.collected_at).desc(), col(MetricSnapshot.id).desc())
        .limit(3)
    )
    last_three = list(session.exec(query).all())
    if len(last_three) < 3 or last_three[0].id != newest.id:
        return 0
    _, middle, oldest = last_three
    if _counts(middle) == _counts(newest) == _counts(oldest):
        session.execute(delete(MetricSnapshot).where(col(MetricSnapshot.id) == middle.id))
        return 1
    return 0


def _counts(snapshot: MetricSnapshot) -> tuple[int | None, ...]:
    return tuple(getattr(snapshot, name) for name in COUNTS)


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
    """
    now = _utc(now)
    current = {ref.id: ref for ref in followers}
    with _session(store) as session:
        listed = session.get(FollowerList, account)
        seeded = listed is None
        known = {
            row.follower_id: row
            for row in session.exec(select(Follower).where(Follower.account == account)).all()
        }
        joins = [ref for fid, ref in current.items() if fid not in known]
        leaves = [FollowerRef(fid, row.handle) for fid, row in known.items() if fid not in current]
        for ref in joins:
            session.add(
                Follower(account=account, follower_id=ref.id, handle=ref.handle, first_seen_at=now)
            )
        for ref in leaves:
            session.delete(known[ref.id])
        if listed is None:
            listed = FollowerList(account=account, first_listed_at=now, last_listed_at=now)
        else:
            session.add_all(
                _events(account, joins, "join", now) + _events(account, leaves, "leave", now)
            )
        listed.last_listed_at = now
        session.add(listed)
        session.commit()
    return FollowerDiff([] if seeded else joins, [] if seeded else leaves, seeded)


def _events(
    account: str, refs: Iterable[FollowerRef], kind: str, now: datetime
) -> list[FollowerEvent]:
    return [
        FollowerEvent(
            account=account, follower_id=ref.id, handle=ref.handle, kind=kind, observed_at=now
        )
        for ref in refs
    ]


# --------------------------------------------------------------------------- inbox


def inbox_cursor(store: Store, account: str, kind: str = "inbox") -> str | None:
    """Where reading ``account``'s inbox stopped last time, None before the first read."""
    with _session(store) as session:
        row = session.get(CollectCursor, (account, kind))
        return row.cursor if row is not None else None


def save_inbox(
    store: Store,
    account: str,
    platform: str,
    items: Sequence[InboxItem],
    cursor: str | None,
    now: datetime,
    kind: str = "inbox",
) -> int:
    """Store new interactions and move the cursor, in one transaction.

    An interaction already stored (same account and remote id) is left alone, so
    reading the same page twice stores nothing twice.

    Returns:
        How many interactions were new.
    """
    now = _utc(now)
    with _session(store) as session:
        links = _publication_links(session, account, {i.in_reply_to for i in items} - {None})
        values = [_interaction(account, platform, item, links, now) for item in items]
        table = Interaction.__table__  # type: ignore[attr-defined]
        inserted = sum(
            insert_new(session, table, [value], ["account", "remote_id"]) for value in values
        )
        if cursor is not None:
            _set_cursor(session, account, kind, cursor, now)
        session.commit()
    return inserted


def _interaction(
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
        "raw": dict(item.raw),
    }


def _publication_links(
    session: Session, account: str, remote_ids: set[str | None]
) -> dict[str, int]:
    """Publication id for each remote id that is one of ``account``'s posts or thread parts."""
    wanted = {r for r in remote_ids if r}
    if not wanted:
        return {}
    query = select(Publication.id, Publication.remote_id, Publication.thread_ids).where(
        Publication.account == account,
        Publication.status == Status.PUBLISHED.value,
        col(Publication.remote_id).is_not(None),
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
