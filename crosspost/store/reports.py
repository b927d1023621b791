"""Queries behind ``crosspost report`` and ``crosspost conversions import``.

Every function takes a :class:`~crosspost.store.Store` and returns plain values
or detached rows; all times returned are timezone-aware UTC.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from crosspost.store import Store
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
    "PostRow",
    "ReactionSnapshot",
    "account_snapshots",
    "conversions_for",
    "follower_event_counts",
    "interactions",
    "published_posts",
    "reaction_snapshots",
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
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _session(store: Store) -> Session:
    return Session(store.engine, expire_on_commit=False)


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
    query = select(Publication).where(
        Publication.status == Status.PUBLISHED,
        col(Publication.published_at).is_not(None),
        is_post(),
    )
    if since is not None:
        query = query.where(col(Publication.published_at) >= since)
    if until is not None:
        query = query.where(col(Publication.published_at) < until)
    if accounts is not None:
        query = query.where(col(Publication.account).in_(list(accounts)))
    query = query.order_by(col(Publication.published_at), col(Publication.id))
    with _session(store) as session:
        rows = session.exec(query).all()
    return [
        PostRow(p.id or 0, p.entry, p.content_id, p.account, _utc(p.published_at), p.url)
        for p in rows
        if p.published_at is not None
    ]


def reaction_snapshots(store: Store, ids: Sequence[int]) -> dict[int, list[ReactionSnapshot]]:
    """Every metric snapshot of the given publications, oldest first per publication."""
    found: dict[int, list[ReactionSnapshot]] = defaultdict(list)
    with _session(store) as session:
        for chunk in _chunks(list(ids)):
            query = (
                select(MetricSnapshot)
                .where(col(MetricSnapshot.publication_id).in_(chunk))
                .order_by(col(MetricSnapshot.collected_at), col(MetricSnapshot.id))
            )
            for s in session.exec(query).all():
                found[s.publication_id].append(
                    ReactionSnapshot(
                        s.publication_id,
                        _utc(s.collected_at),
                        s.likes,
                        s.reposts,
                        s.replies,
                        s.quotes,
                        s.views,
                        s.bookmarks,
                    )
                )
    return dict(found)


def account_snapshots(
    store: Store, accounts: Sequence[str], until: datetime | None
) -> dict[str, list[FollowerPoint]]:
    """Follower counts per account before ``until``, oldest first (all history, for baselines)."""
    found: dict[str, list[FollowerPoint]] = defaultdict(list)
    query = select(AccountSnapshot).where(
        col(AccountSnapshot.account).in_(list(accounts)),
        col(AccountSnapshot.followers).is_not(None),
    )
    if until is not None:
        query = query.where(col(AccountSnapshot.collected_at) < until)
    query = query.order_by(col(AccountSnapshot.collected_at), col(AccountSnapshot.id))
    with _session(store) as session:
        for s in session.exec(query).all():
            found[s.account].append(
                FollowerPoint(s.account, _utc(s.collected_at), s.followers or 0)
            )
    return dict(found)


def follower_event_counts(
    store: Store, accounts: Sequence[str], since: datetime | None, until: datetime | None
) -> dict[str, dict[str, int]]:
    """Joins and leaves per account in ``[since, until)``: ``{account: {"join": n, ...}}``."""
    query = select(FollowerEvent.account, FollowerEvent.kind, func.count()).where(
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
    query = select(Interaction).where(col(Interaction.account).in_(list(accounts)))
    if since is not None:
        query = query.where(col(Interaction.created_at) >= since)
    if until is not None:
        query = query.where(col(Interaction.created_at) < until)
    query = query.order_by(col(Interaction.created_at))
    with _session(store) as session:
        rows = session.exec(query).all()
    return [
        InteractionRow(r.account, r.platform, r.kind, r.author, _utc(r.created_at)) for r in rows
    ]


def conversions_for(store: Store, campaigns: Iterable[str]) -> list[ConversionRow]:
    """Every imported conversion row whose campaign is one of ``campaigns`` (any day)."""
    wanted = sorted(set(campaigns))
    found: list[ConversionRow] = []
    with _session(store) as session:
        for chunk in _chunks(wanted):
            query = select(Conversion).where(col(Conversion.campaign).in_(chunk))
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
    dialect: Any = postgresql if store.engine.dialect.name == "postgresql" else sqlite
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
        query = select(Conversion.campaign, Conversion.content, Conversion.source, Conversion.day)
        for row in session.exec(query.where(col(Conversion.campaign).in_(chunk))).all():
            found.add((row[0], row[1], row[2], row[3]))
    return found & set(keys)
