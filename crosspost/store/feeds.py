"""Feeds in the store: each subscription's last fetch, and the entries it has seen.

An entry is remembered in ``feed_entry`` under its key the first time a fetch
sees it, whatever is decided about it (posted, too old, over the cap), and in
the same transaction its publications are written down. The insert of the entry
is what decides: two fetches racing over the same entry (two daemons on one
database) write its publications once, because only the one whose insert went
in writes them, and the publication key (entry, occurrence, account) holds
besides.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from crosspost.history import chunked
from crosspost.status import FEED_PREFIX, Status
from crosspost.store import Store
from crosspost.store.db import dialect_module, insert_new
from crosspost.store.models import FeedEntry, FeedState, Publication
from crosspost.store.planned import (
    CANCELLED_BY_SYNC,
    PUBLICATION_KEY,
    PlannedRow,
    planned_values,
)
from crosspost.store.sessions import utc_or_none

__all__ = [
    "FetchRecord",
    "cancel_feed_rows",
    "entry_counts",
    "feed_entries",
    "feed_entry",
    "feed_state",
    "feed_states",
    "failing_feeds",
    "forget_errors",
    "record_fetch",
    "seen_keys",
]


@dataclass(frozen=True)
class FetchRecord:
    """How one fetch went, for ``feed_state``."""

    feed: str
    url: str
    at: datetime
    next_at: datetime
    #: Why it failed; None when it worked (then the fields below are written too).
    error: str | None = None
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    #: The feed's title (None: keep the one known).
    title: str | None = None


def feed_states(store: Store) -> dict[str, FeedState]:
    """Every subscription's state, by feed id (times in UTC)."""
    with Session(store.engine) as session:
        states = session.exec(select(FeedState)).all()
    return {state.feed: _in_utc(state) for state in states}


def feed_state(store: Store, feed: str) -> FeedState | None:
    """One subscription's state (times in UTC)."""
    with Session(store.engine) as session:
        state = session.get(FeedState, feed)
    return _in_utc(state) if state is not None else None


def _in_utc(state: FeedState) -> FeedState:
    for name in ("subscribed_at", "last_fetch_at", "last_ok_at", "next_fetch_at"):
        setattr(state, name, utc_or_none(getattr(state, name)))
    return state


def seen_keys(store: Store, feed: str, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` the feed has seen before."""
    found: set[str] = set()
    with Session(store.engine) as session:
        for chunk in chunked(keys):
            query = select(FeedEntry.key).where(
                col(FeedEntry.feed) == feed, col(FeedEntry.key).in_(chunk)
            )
            found.update(session.exec(query).all())
    return found


def record_fetch(
    store: Store,
    record: FetchRecord,
    entries: Sequence[FeedEntry] = (),
    rows_for: Callable[[FeedEntry], list[PlannedRow]] = lambda _entry: [],
) -> list[FeedEntry]:
    """Write how a fetch went, the entries it saw first, and their publications.

    Args:
        entries: entries not seen before, each with its decision.
        rows_for: the publications of an entry decided ``planned``.

    Returns:
        The entries this call wrote (another fetch may have written some first).
    """
    with Session(store.engine, expire_on_commit=False) as session:
        _save_state(session, record)
        written = _insert_entries(session, entries)
        rows = [row for entry in written if entry.decision == "planned" for row in rows_for(entry)]
        table = Publication.__table__  # type: ignore[attr-defined]
        values = planned_values(rows, record.at)
        for chunk in chunked(values):
            insert_new(session, table, chunk, PUBLICATION_KEY)
        session.commit()
    return written


def _save_state(session: Session, record: FetchRecord) -> None:
    state = session.get(FeedState, record.feed) or FeedState(feed=record.feed, url=record.url)
    state.url, state.last_fetch_at, state.next_fetch_at = record.url, record.at, record.next_at
    state.error = record.error
    if record.error is None:
        state.last_ok_at = record.at
        state.subscribed_at = utc_or_none(state.subscribed_at) or record.at
        if record.title is not None:
            state.title = record.title[:500]
        if not record.not_modified:
            state.etag, state.last_modified = record.etag, record.last_modified
    session.add(state)


def _insert_entries(session: Session, entries: Sequence[FeedEntry]) -> list[FeedEntry]:
    if not entries:
        return []
    table = FeedEntry.__table__  # type: ignore[attr-defined]
    values = [entry.model_dump() for entry in entries]
    insert: Any = dialect_module(session.get_bind().dialect.name).insert
    keys: set[str] = set()
    for chunk in chunked(values):
        statement = (
            insert(table)
            .values(chunk)
            .on_conflict_do_nothing(index_elements=["feed", "key"])
            .returning(table.c.key)
        )
        keys.update(row[0] for row in session.execute(statement))
    return [entry for entry in entries if entry.key in keys]


def feed_entry(store: Store, feed: str, key: str) -> FeedEntry | None:
    """The entry of ``feed`` remembered under ``key``."""
    with Session(store.engine) as session:
        found = session.get(FeedEntry, (feed, key))
    if found is not None:
        found.published_at = utc_or_none(found.published_at)
        found.seen_at = utc_or_none(found.seen_at) or found.seen_at
    return found


def feed_entries(store: Store, feed: str, limit: int = 20) -> list[FeedEntry]:
    """The entries ``feed`` saw most recently, newest first."""
    query = (
        select(FeedEntry)
        .where(col(FeedEntry.feed) == feed)
        .order_by(col(FeedEntry.seen_at).desc(), col(FeedEntry.published_at).desc())
        .limit(limit)
    )
    with Session(store.engine) as session:
        found = list(session.exec(query).all())
    for entry in found:
        entry.published_at = utc_or_none(entry.published_at)
        entry.seen_at = utc_or_none(entry.seen_at) or entry.seen_at
    return found


def entry_counts(store: Store) -> dict[str, dict[str, int]]:
    """Per feed, how many entries were seen with each decision."""
    query = select(FeedEntry.feed, FeedEntry.decision, func.count()).group_by(
        col(FeedEntry.feed), col(FeedEntry.decision)
    )
    counts: dict[str, dict[str, int]] = {}
    with Session(store.engine) as session:
        for feed, decision, count in session.exec(query).all():
            counts.setdefault(feed, {})[decision] = count
    return counts


def cancel_feed_rows(store: Store, wanted: Mapping[str, set[str]], now: datetime) -> int:
    """Cancel the untried planned posts of feeds (or accounts) no longer in the schedule.

    Args:
        wanted: ``feed:<id>`` of every enabled feed → the accounts it posts to.
    """
    query = select(Publication.id, Publication.entry, Publication.account).where(
        col(Publication.entry).like(f"{FEED_PREFIX}%"),
        col(Publication.status) == Status.PLANNED.value,
        col(Publication.attempts) == 0,
    )
    with Session(store.engine) as session:
        gone = [
            row_id
            for row_id, entry, account in session.exec(query).all()
            if account not in wanted.get(entry, set())
        ]
        cancelled = 0
        for chunk in chunked(gone):
            statement = (
                update(Publication)
                .where(
                    col(Publication.id).in_(chunk),
                    col(Publication.status) == Status.PLANNED.value,
                    col(Publication.attempts) == 0,
                )
                .values(status=Status.CANCELLED.value, error=CANCELLED_BY_SYNC, updated_at=now)
            )
            cancelled += int(session.execute(statement).rowcount)  # type: ignore[attr-defined]
        session.commit()
    return cancelled


def failing_feeds(store: Store) -> list[FeedState]:
    """The feeds whose last fetch failed, by name."""
    return sorted((s for s in feed_states(store).values() if s.error), key=lambda s: s.feed)


def forget_errors(store: Store, keep: Collection[str]) -> None:
    """Clear the last error of feeds not in ``keep``: a feed that left the schedule
    needs nobody's attention."""
    statement = update(FeedState).where(
        col(FeedState.feed).not_in(list(keep)), col(FeedState.error).is_not(None)
    )
    with Session(store.engine) as session:
        session.execute(statement.values(error=None))
        session.commit()
