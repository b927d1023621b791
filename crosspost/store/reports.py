"""The posts and reactions of ``crosspost report``, read through the store.

Every function takes a :class:`~crosspost.store.Store` and returns the rows of
:mod:`crosspost.report_rows`; all times returned are timezone-aware UTC.
The audience and community figures are read in :mod:`.reports_audience`, the
conversions in :mod:`.conversions`, the answers to members in :mod:`.responses`;
:mod:`crosspost.reporting.report_sqlite` holds the twins of these queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, case, func, or_, select
from sqlmodel import col

from crosspost.report_rows import FIRST_DAY, PostReactions, PostRow, reactions_by_post
from crosspost.status import Status
from crosspost.store import Store
from crosspost.store.db import is_sqlite
from crosspost.store.models import MetricSnapshot, Publication, is_post
from crosspost.store.sessions import utc

__all__ = [
    "post_reactions",
    "published_posts",
]


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
    return [PostRow(i, e, c, a, utc(at), url) for i, e, c, a, at, url in rows]


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
    first: timedelta = FIRST_DAY,
) -> dict[int, PostReactions]:
    """Per post published in ``[since, until)``: its latest snapshot and the last one
    taken within ``first`` after publishing (for the first-day velocity).

    The database picks both (a GROUP BY per post, then those rows only), so no more
    than two snapshots per post reach Python; a post without snapshots is absent.
    """
    query = _reaction_rows(store, since, until, accounts, first)
    with store.engine.connect() as connection:
        return reactions_by_post(connection.execute(query), utc)
