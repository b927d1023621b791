"""Queries behind reading the inbox: new interactions, the cursor and the next read.

Every function takes a :class:`~crosspost.store.Store`; times returned are
timezone-aware UTC. The collector reads the platform first and writes what it got,
the cursor and the schedule in one short transaction. ``crosspost inbox`` lists
what is stored here through :mod:`crosspost.store.inbox`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from connectors.base import InboxItem
from crosspost.status import Status
from crosspost.store import Store
from crosspost.store.db import insert_new
from crosspost.store.models import CollectCursor, InboxPoll, Interaction, Publication, is_post
from crosspost.store.sessions import session_on, table_of, utc

__all__ = [
    "InboxSchedule",
    "inbox_cursor",
    "inbox_schedules",
    "interaction_row",
    "publication_links",
    "save_inbox",
]


def inbox_cursor(store: Store, account: str, kind: str = "inbox") -> str | None:
    """Where reading ``account``'s inbox stopped last time, None before the first read."""
    with session_on(store.engine) as session:
        row = session.get(CollectCursor, (account, kind))
        return row.cursor if row is not None else None


@dataclass(frozen=True)
class InboxSchedule:
    """When an account's inbox is read next, and the interval that led there."""

    every: timedelta
    next_at: datetime


def inbox_schedules(store: Store) -> dict[str, InboxSchedule]:
    """The stored inbox schedule of every account read so far, in one query."""
    with session_on(store.engine) as session:
        rows = session.exec(select(InboxPoll)).all()
    return {
        row.account: InboxSchedule(timedelta(seconds=row.every_seconds), utc(row.next_at))
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
    now = utc(now)
    with session_on(store.engine) as session:
        links = publication_links(session, account, {i.in_reply_to for i in items} - {None})
        values = [interaction_row(account, platform, item, links, now) for item in items]
        inserted = insert_new(session, table_of(Interaction), values, ["account", "remote_id"])
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
    """The ``interaction`` row of one inbox item, linked to our post it answers (``links``)."""
    return {
        "account": account,
        "platform": platform,
        "remote_id": item.remote_id,
        "kind": item.kind,
        "author": item.author,
        "author_id": item.author_id,
        "text": item.text,
        "url": item.url,
        "created_at": utc(item.created_at),
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
