"""Queries behind ``crosspost report`` and ``crosspost conversions import``.

Every function takes a :class:`~crosspost.store.Store` and returns plain values
or detached rows; all times returned are timezone-aware UTC.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, case, func, or_, select
from sqlmodel import Session, col
from sqlmodel import select as select_model

from crosspost.store import Store
from crosspost.store.db import dialect_module, is_sqlite
from crosspost.store.models import (
    AccountSnapshot,
    Conversion,
    FollowerEvent,
    Interaction,
    MetricSnapshot,
    Publication,
    Status,
    is_post,
)

__all__ = [
    "ConversionRow",
    "FollowerPoint",
    "InteractionRow",
    "PostReactions",
    "PostRow",
    "ReactionSnapshot",
    "account_snapshots",
    "conversions_for",
    "follower_event_counts",
    "interactions",
    "post_reactions",
    "published_posts",
    "upsert_conversions",
]

#: Bound parameters per ``IN (…)`` query; SQLite's default limit is 999 on old builds.
_CHUNK = 500


@dataclass(frozen=True)
class PostRow:
    """A published publication, as the report needs it."""

    id: int
    entry: str
    content_id: str
    account: str
    published_at: datetime
    url: str | None


@dataclass(frozen=True)
class ReactionSnapshot:
    """One metric snapshot of a post."""

    publication_id: int
    collected_at: datetime
    likes: int | None
    reposts: int | None
    replies: int | None
    quotes: int | None
    views: int | None
    bookmarks: int | None


@dataclass(frozen=True)
class FollowerPoint:
    """Followers of an account at one moment."""

    account: str
    collected_at: datetime
    followers: int


@dataclass(frozen=True)
class InteractionRow:
    """A member-written mention, reply, quote or comment."""

    account: str
    platform: str
    kind: str
    author: str
    created_at: datetime


@dataclass(frozen=True)
class ConversionRow:
    """One row of an analytics export, keyed by UTM campaign, content, source and day."""

    campaign: str
    content: str
    source: str
    day: str
    conversions: int
    clicks: int | None = None
    value: float | None = None


def _utc(moment: datetime) -> datetime:
    # SQLite hands datetimes back naive; the store only ever writes UTC.
    if moment.tzinfo is UTC:  # what the store's UTCDateTime hands back: no conversion
        return moment
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _session(store: Store) -> Session:
    return Session(store.engine, expire_on_commit=False)


def _published(
    since: datetime | None, until: datetime | None, accounts: Iterable[str] | None
) -> Any:
    """The WHERE clause of "published in ``[since, until)`` by these accounts"."""
    clauses = [
        col(Publication.status) == Status.PUBLISHED,
        col(Publication.published_at).is_not(None),
        is_post(),
    ]
    if since is not None:
        clauses.append(col(Publication.published_at) >= since)
    if until is not None:
        clauses.append(col(Publication.published_at) < until)
    if accounts is not None:
        clauses.append(col(Publication.account).in_(list(accounts)))
    return and_(*clauses)


def published_posts(
    store: Store,
    since: datetime | None,
    until: datetime | None,
    accounts: Iterable[str] | None = None,
) -> list[PostRow]:
    """Publications published in ``[since, until)``, oldest first.

    Args:
        store: The store.
        since: Start of the period (inclusive), or None for all history.
        until: End of the period (exclusive), or None for no end.
        accounts: Only these accounts; None for every account.

    Returns:
        One row per published publication.
    """
    query = (
        select(
            col(Publication.id),
            col(Publication.entry),
            col(Publication.content_id),
            col(Publication.account),
            col(Publication.published_at),
            col(Publication.url),
        )
        .where(_published(since, until, accounts))
        .order_by(col(Publication.published_at), col(Publication.id))
    )
    with store.engine.connect() as connection:
        rows: Sequence[Any] = connection.execute(query).all()
    return [PostRow(i, e, c, a, _utc(at), url) for i, e, c, a, at, url in rows]


@dataclass(frozen=True)
class PostReactions:
    """The snapshots of one post the report needs: the latest, and the last of its first day."""

    latest: ReactionSnapshot
    early: ReactionSnapshot | None


_SNAPSHOT_COLUMNS: tuple[Any, ...] = (
    col(MetricSnapshot.publication_id),
    col(MetricSnapshot.collected_at),
    col(MetricSnapshot.likes),
    col(MetricSnapshot.reposts),
    col(MetricSnapshot.replies),
    col(MetricSnapshot.quotes),
    col(MetricSnapshot.views),
    col(MetricSnapshot.bookmarks),
)


def _snapshot(row: Sequence[Any]) -> ReactionSnapshot:
    return ReactionSnapshot(row[0], _utc(row[1]), *row[2:8])


def _first_day_end(engine: Engine, published: Any, first: timedelta) -> Any:
    """``published + first`` as the database compares it with ``collected_at``.

    SQLite keeps times as ``YYYY-MM-DD HH:MM:SS.ffffff`` text: the whole seconds are
    shifted and the fraction put back, so the bound is exact and compares as text.
    """
    if not is_sqlite(engine):
        return published + first
    seconds = f"+{int(first.total_seconds())} seconds"
    return func.datetime(func.substr(published, 1, 19), seconds).concat(func.substr(published, 20))


def _reaction_rows(
    store: Store,
    since: datetime | None,
    until: datetime | None,
    accounts: Iterable[str] | None,
    first: timedelta,
) -> Any:
    """The latest and the last first-day snapshot of each post (ties: every tied row).

    ``MATERIALIZED`` computes each post's first-day bound once, not once per snapshot.
    """
    snapshot = MetricSnapshot.__table__  # type: ignore[attr-defined]
    posts = (
        select(
            col(Publication.id).label("id"),
            col(Publication.published_at).label("published_at"),
            _first_day_end(store.engine, col(Publication.published_at), first).label("end"),
        )
        .where(_published(since, until, accounts))
        .cte("posts")
        .prefix_with("MATERIALIZED")
    )
    at = snapshot.c.collected_at
    in_first = and_(at > posts.c.published_at, at <= posts.c.end)
    newest = (
        select(
            posts.c.id.label("id"),
            func.max(at).label("latest"),
            func.max(case((in_first, at))).label("early"),
        )
        .join_from(posts, snapshot, snapshot.c.publication_id == posts.c.id)
        .group_by(posts.c.id)
        .cte("newest")
    )
    return (
        select(*_SNAPSHOT_COLUMNS, at == newest.c.latest, at == newest.c.early)
        .join_from(newest, snapshot, snapshot.c.publication_id == newest.c.id)
        .where(or_(at == newest.c.latest, at == newest.c.early))
        .order_by(snapshot.c.publication_id, at, snapshot.c.id)
    )


def post_reactions(
    store: Store,
    since: datetime | None,
    until: datetime | None,
    accounts: Iterable[str] | None = None,
    first: timedelta = timedelta(hours=24),
) -> dict[int, PostReactions]:
    """Per post published in ``[since, until)``: its latest snapshot and the last one
    taken within ``first`` after publishing (for the first-day velocity).

    The database picks both (a GROUP BY per post, then those rows only), so no more
    than two snapshots per post reach Python; a post without snapshots is absent.
    """
    latest: dict[int, Sequence[Any]] = {}
    early: dict[int, Sequence[Any]] = {}
    query = _reaction_rows(store, since, until, accounts, first)
    with store.engine.connect() as connection:
        for row in connection.execute(query):
            # in (collected_at, id) order, so the last of tied rows wins, as before
            if row[8]:
                latest[row[0]] = row
            if row[9]:
                early[row[0]] = row
    return {
        key: PostReactions(_snapshot(row), _snapshot(early[key]) if key in early else None)
        for key, row in latest.items()
    }


_FOLLOWER_COLUMNS: tuple[Any, ...] = (
    col(AccountSnapshot.account),
    col(AccountSnapshot.collected_at),
    col(AccountSnapshot.followers),
)


def account_snapshots(
    store: Store, accounts: Sequence[str], since: datetime | None, until: datetime | None
) -> dict[str, list[FollowerPoint]]:
    """Follower counts per account in ``[since, until)``, oldest first, each series led by
    the latest count before ``since`` (the baseline), when there is one."""
    counted = and_(
        col(AccountSnapshot.account).in_(list(accounts)),
        col(AccountSnapshot.followers).is_not(None),
    )
    period = select(*_FOLLOWER_COLUMNS).where(counted)
    if since is not None:
        period = period.where(col(AccountSnapshot.collected_at) >= since)
    if until is not None:
        period = period.where(col(AccountSnapshot.collected_at) < until)
    period = period.order_by(col(AccountSnapshot.collected_at), col(AccountSnapshot.id))
    found: dict[str, list[FollowerPoint]] = defaultdict(list)
    with store.engine.connect() as connection:
        if since is not None:
            for account, at, followers in connection.execute(_baselines(counted, since)):
                found[account].append(FollowerPoint(account, _utc(at), followers))
        for account, at, followers in connection.execute(period):
            found[account].append(FollowerPoint(account, _utc(at), followers))
    return dict(found)


def _baselines(counted: Any, since: datetime) -> Any:
    """The latest follower count of each account before ``since``."""
    order = (col(AccountSnapshot.collected_at).desc(), col(AccountSnapshot.id).desc())
    ranked = (
        select(
            *_FOLLOWER_COLUMNS,
            func.row_number()
            .over(partition_by=col(AccountSnapshot.account), order_by=order)
            .label("n"),
        )
        .where(counted, col(AccountSnapshot.collected_at) < since)
        .subquery()
    )
    return select(ranked.c.account, ranked.c.collected_at, ranked.c.followers).where(
        ranked.c.n == 1
    )


def follower_event_counts(
    store: Store, accounts: Sequence[str], since: datetime | None, until: datetime | None
) -> dict[str, dict[str, int]]:
    """Joins and leaves per account in ``[since, until)``: ``{account: {"join": n, ...}}``."""
    query = select_model(FollowerEvent.account, FollowerEvent.kind, func.count()).where(
        col(FollowerEvent.account).in_(list(accounts))
    )
    if since is not None:
        query = query.where(col(FollowerEvent.observed_at) >= since)
    if until is not None:
        query = query.where(col(FollowerEvent.observed_at) < until)
    query = query.group_by(FollowerEvent.account, FollowerEvent.kind)
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    with _session(store) as session:
        for account, kind, number in session.exec(query).all():
            counts[account][kind] = number
    return dict(counts)


def interactions(
    store: Store, accounts: Sequence[str], since: datetime | None, until: datetime | None
) -> list[InteractionRow]:
    """Member-written content received by the accounts in ``[since, until)``, oldest first."""
    query = select(
        col(Interaction.account),
        col(Interaction.platform),
        col(Interaction.kind),
        col(Interaction.author),
        col(Interaction.created_at),
    ).where(col(Interaction.account).in_(list(accounts)))
    if since is not None:
        query = query.where(col(Interaction.created_at) >= since)
    if until is not None:
        query = query.where(col(Interaction.created_at) < until)
    query = query.order_by(col(Interaction.created_at))
    with store.engine.connect() as connection:
        rows = connection.execute(query).all()
    return [InteractionRow(a, p, k, who, _utc(at)) for a, p, k, who, at in rows]


def conversions_for(store: Store, campaigns: Iterable[str]) -> list[ConversionRow]:
    """Every imported conversion row whose campaign is one of ``campaigns`` (any day)."""
    wanted = sorted(set(campaigns))
    found: list[ConversionRow] = []
    with _session(store) as session:
        for chunk in _chunks(wanted):
            query = select_model(Conversion).where(col(Conversion.campaign).in_(chunk))
            found += [
                ConversionRow(
                    c.campaign, c.content, c.source, c.day, c.conversions, c.clicks, c.value
                )
                for c in session.exec(query).all()
            ]
    return found


def upsert_conversions(
    store: Store, rows: Sequence[ConversionRow], source_file: str, now: datetime
) -> tuple[int, int]:
    """Insert or replace conversion rows on their (campaign, content, source, day) key.

    All rows are written in one transaction, so either every row lands or none.

    Args:
        store: The store.
        rows: Rows to write; a later row with the same key wins.
        source_file: Name of the imported file, kept for provenance.
        now: The import time.

    Returns:
        ``(inserted, updated)`` counts.
    """
    unique = {(r.campaign, r.content, r.source, r.day): r for r in rows}
    table = Conversion.__table__  # type: ignore[attr-defined]
    dialect: Any = dialect_module(store.engine.dialect.name)
    with _session(store) as session:
        existing = _existing_keys(session, list(unique))
        for chunk in _chunks(list(unique.values())):
            values = [{**r.__dict__, "imported_at": now, "source_file": source_file} for r in chunk]
            statement = dialect.insert(table).values(values)
            statement = statement.on_conflict_do_update(
                index_elements=["campaign", "content", "source", "day"],
                set_={
                    name: statement.excluded[name]
                    for name in ("conversions", "clicks", "value", "imported_at", "source_file")
                },
            )
            session.execute(statement)
        session.commit()
    return len(unique) - len(existing), len(existing)


def _existing_keys(
    session: Session, keys: list[tuple[str, str, str, str]]
) -> set[tuple[str, str, str, str]]:
    found: set[tuple[str, str, str, str]] = set()
    for chunk in _chunks(sorted({k[0] for k in keys})):
        query = select_model(
            Conversion.campaign, Conversion.content, Conversion.source, Conversion.day
        )
        for row in session.exec(query.where(col(Conversion.campaign).in_(chunk))).all():
            found.add((row[0], row[1], row[2], row[3]))
    return found & set(keys)
