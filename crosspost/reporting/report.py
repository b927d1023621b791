"""The figures of ``crosspost report``: reactions, audience, community and posting times.

Everything here is computed from the store (see :mod:`crosspost.store.reports`);
nothing is fetched from a platform. :func:`build_report` returns a :class:`Report`
that :mod:`crosspost.reporting.report_render` prints as a table, CSV, JSON or HTML.
The meaning of every figure is documented in ``docs/report-formats.md``.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo

from crosspost.loading.durations import parse_duration
from crosspost.reporting.posting_times import (
    MIN_POSTS_FOR_TIMES,
    MIN_POSTS_PER_SLOT,
    PostingTimes,
    SlotRule,
    posting_times,
)
from crosspost.reporting.report_responses import ResponseFigures, response_figures
from crosspost.store import Store
from crosspost.store import reports as queries
from crosspost.store.reports import (
    FollowerPoint,
    InteractionRow,
    PostReactions,
    PostRow,
    ReactionSnapshot,
)

__all__ = [
    "AccountFigures",
    "FollowerSample",
    "PostFigures",
    "RankedPost",
    "Report",
    "ReportQuery",
    "WeekFigures",
    "build_report",
    "parse_since",
    "parse_until",
]

_DAY = timedelta(hours=24)


@dataclass(frozen=True)
class ReportQuery:
    """What to report on.

    Attributes:
        since: Start of the period (inclusive, aware).
        until: End of the period (exclusive, aware).
        accounts: The accounts to include, each with its platform (connector name).
        timezone: The schedule's zone: weeks, weekdays and hours are counted in it.
        exact_followers: Accounts whose platform lists followers, so joins/leaves are known.
        min_posts: Posts with metrics a platform needs before posting times are shown.
        top: How many top and bottom posts to list.
        titles: Content id → title, to name posts; a missing title falls back to the id.
        min_slot_posts: Posts a weekday × hour slot needs before it is shown.
    """

    since: datetime
    until: datetime
    accounts: Mapping[str, str]
    timezone: tzinfo = UTC
    exact_followers: frozenset[str] = frozenset()
    min_posts: int = MIN_POSTS_FOR_TIMES
    top: int = 5
    titles: Mapping[str, str] = field(default_factory=dict)
    min_slot_posts: int = MIN_POSTS_PER_SLOT


@dataclass(frozen=True)
class PostFigures:
    """Reactions and conversions of one published post (latest snapshot)."""

    publication_id: int
    account: str
    platform: str
    entry: str
    content: str
    published_at: datetime
    url: str | None
    likes: int | None
    reposts: int | None
    replies: int | None
    quotes: int | None
    views: int | None
    bookmarks: int | None
    reactions: int | None
    followers_at_publish: int | None
    engagement_rate: float | None
    velocity_24h: float | None
    conversions: int
    clicks: int | None
    conversion_value: float | None
    title: str = ""


@dataclass(frozen=True)
class RankedPost:
    """A post in the top or bottom list."""

    rank: int
    post: PostFigures


@dataclass(frozen=True)
class AccountFigures:
    """Audience and output of one account over the period."""

    account: str
    platform: str
    followers_start: int | None
    followers_end: int | None
    net_growth: int | None
    joins: int | None
    leaves: int | None
    churn_rate: float | None
    posts_published: int
    reactions: int
    reactions_per_post: float | None
    conversions: int


@dataclass(frozen=True)
class FollowerSample:
    """One point of an account's followers-over-time series."""

    account: str
    platform: str
    collected_at: datetime
    followers: int


@dataclass(frozen=True)
class WeekFigures:
    """Member-written content in one ISO week."""

    week: str
    week_start: date
    mentions: int
    replies: int
    other: int
    total: int
    distinct_authors: int
    growth: float | None


@dataclass(frozen=True)
class Report:
    """Everything ``crosspost report`` shows."""

    generated_at: datetime
    since: datetime
    until: datetime
    timezone: str
    accounts_filter: tuple[str, ...]
    platforms_filter: tuple[str, ...]
    posts: list[PostFigures] = field(default_factory=list)
    top_posts: list[RankedPost] = field(default_factory=list)
    bottom_posts: list[RankedPost] = field(default_factory=list)
    accounts: list[AccountFigures] = field(default_factory=list)
    followers: list[FollowerSample] = field(default_factory=list)
    community: list[WeekFigures] = field(default_factory=list)
    when_to_post: list[PostingTimes] = field(default_factory=list)
    #: How each account answered its members (``crosspost.reporting.report_responses``).
    responses: list[ResponseFigures] = field(default_factory=list)


# --------------------------------------------------------------------------- period


def _parse_day(text: str, zone: tzinfo) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def parse_since(text: str, zone: tzinfo, now: datetime) -> datetime:
    """``30d`` (before ``now``), a date (its midnight in ``zone``) or an ISO 8601 time.

    Raises:
        ValueError: neither a duration nor a date.
    """
    moment = _parse_day(text.strip(), zone)
    if moment is not None:
        return moment.astimezone(UTC)
    try:
        return (now - parse_duration(text)).astimezone(UTC)
    except ValueError:
        raise ValueError(
            f"{text!r} is neither a duration (30d, 12h, 2w) nor a date (2024-05-01)"
        ) from None


def parse_until(text: str | None, zone: tzinfo, now: datetime) -> datetime:
    """End of the period: ``now`` when None; a bare date includes that whole day.

    Raises:
        ValueError: not a date or ISO 8601 time.
    """
    if text is None:
        return now.astimezone(UTC)
    text = text.strip()
    moment = _parse_day(text, zone)
    if moment is None:
        raise ValueError(f"{text!r} is not a date (2024-05-31) or time (2024-05-31T18:00)")
    if len(text) == 10:
        moment += timedelta(days=1)
    return moment.astimezone(UTC)


# --------------------------------------------------------------------------- posts


def _reactions(snapshot: ReactionSnapshot) -> int:
    return (
        (snapshot.likes or 0)
        + (snapshot.reposts or 0)
        + (snapshot.replies or 0)
        + (snapshot.quotes or 0)
    )


class _Series:
    """An account's follower points with their times, for repeated "followers at" lookups."""

    def __init__(self, points: Sequence[FollowerPoint]) -> None:
        self.points = points
        self.times = [p.collected_at for p in points]

    def at(self, moment: datetime) -> int | None:
        """Followers in the latest snapshot at or before ``moment``."""
        index = bisect.bisect_right(self.times, moment)
        return self.points[index - 1].followers if index else None


def _velocity(post: PostRow, early: ReactionSnapshot | None) -> float | None:
    if early is None:
        return None
    hours = (early.collected_at - post.published_at).total_seconds() / 3600
    return _reactions(early) / hours


_ConversionTotals = dict[tuple[str, str, str], tuple[int, int | None, float | None]]


def _conversion_totals(rows: Iterable[queries.ConversionRow]) -> _ConversionTotals:
    totals: _ConversionTotals = {}
    for row in rows:
        key = (row.campaign, row.content, row.source)
        conversions, clicks, value = totals.get(key, (0, None, None))
        totals[key] = (
            conversions + row.conversions,
            None if row.clicks is None and clicks is None else (clicks or 0) + (row.clicks or 0),
            None if row.value is None and value is None else (value or 0) + (row.value or 0),
        )
    return totals


def _conversions_of(
    post: PostRow, platform: str, totals: _ConversionTotals
) -> tuple[int, int | None, float | None]:
    """Conversions tagged with the post's campaign and content, for its platform or none."""
    own = totals.get((post.entry, post.content_id, platform), (0, None, None))
    untagged = totals.get((post.entry, post.content_id, ""), (0, None, None))
    clicks = None if own[1] is None and untagged[1] is None else (own[1] or 0) + (untagged[1] or 0)
    value = None if own[2] is None and untagged[2] is None else (own[2] or 0) + (untagged[2] or 0)
    return own[0] + untagged[0], clicks, value


def _post_figures(
    query: ReportQuery,
    post: PostRow,
    measured: PostReactions | None,
    followers: _Series,
    totals: _ConversionTotals,
) -> PostFigures:
    platform = query.accounts[post.account]
    latest = measured.latest if measured else None
    reactions = _reactions(latest) if latest else None
    audience = followers.at(post.published_at)
    rate = reactions / audience if reactions is not None and audience else None
    conversions, clicks, value = _conversions_of(post, platform, totals)
    return PostFigures(
        publication_id=post.id,
        account=post.account,
        platform=platform,
        entry=post.entry,
        content=post.content_id,
        published_at=post.published_at,
        url=post.url,
        likes=latest.likes if latest else None,
        reposts=latest.reposts if latest else None,
        replies=latest.replies if latest else None,
        quotes=latest.quotes if latest else None,
        views=latest.views if latest else None,
        bookmarks=latest.bookmarks if latest else None,
        reactions=reactions,
        followers_at_publish=audience,
        engagement_rate=rate,
        velocity_24h=_velocity(post, measured.early if measured else None),
        conversions=conversions,
        clicks=clicks,
        conversion_value=value,
        title=query.titles.get(post.content_id) or post.content_id,
    )


def _rank(posts: Sequence[PostFigures], top: int) -> tuple[list[RankedPost], list[RankedPost]]:
    """Top posts by reactions, and the bottom ones among the rest (lowest first)."""
    measured = [p for p in posts if p.reactions is not None]
    best = sorted(measured, key=lambda p: (-(p.reactions or 0), p.published_at))[:top]
    chosen = {p.publication_id for p in best}
    rest = [p for p in measured if p.publication_id not in chosen]
    worst = sorted(rest, key=lambda p: (p.reactions or 0, p.published_at))[:top]
    return (
        [RankedPost(i, p) for i, p in enumerate(best, 1)],
        [RankedPost(i, p) for i, p in enumerate(worst, 1)],
    )


# --------------------------------------------------------------------------- accounts


def _start_followers(series: _Series, since: datetime) -> int | None:
    before = series.at(since)
    if before is not None:
        return before
    return next((p.followers for p in series.points if p.collected_at >= since), None)


def _account_figures(
    query: ReportQuery,
    account: str,
    series: _Series,
    events: Mapping[str, int],
    posts: Sequence[PostFigures],
) -> AccountFigures:
    start = _start_followers(series, query.since)
    points = series.points
    end = points[-1].followers if points else None  # points all lie before ``until``
    exact = account in query.exact_followers
    joins, leaves = (events.get("join", 0), events.get("leave", 0)) if exact else (None, None)
    measured = [p.reactions for p in posts if p.reactions is not None]
    return AccountFigures(
        account=account,
        platform=query.accounts[account],
        followers_start=start,
        followers_end=end,
        net_growth=end - start if start is not None and end is not None else None,
        joins=joins,
        leaves=leaves,
        churn_rate=leaves / start if leaves is not None and start else None,
        posts_published=len(posts),
        reactions=sum(measured),
        reactions_per_post=sum(measured) / len(measured) if measured else None,
        conversions=sum(p.conversions for p in posts),
    )


def _follower_series(
    query: ReportQuery, series: Mapping[str, Sequence[FollowerPoint]]
) -> list[FollowerSample]:
    samples = []
    for account, points in sorted(series.items()):
        start = bisect.bisect_right([p.collected_at for p in points], query.since)
        # Keep the last point before the period so each line starts at the period's start.
        for point in points[max(start - 1, 0) :]:
            samples.append(
                FollowerSample(
                    account, query.accounts[account], point.collected_at, point.followers
                )
            )
    return samples


# --------------------------------------------------------------------------- community


def _week_start(moment: datetime, zone: tzinfo) -> date:
    local = moment.astimezone(zone).date()
    return local - timedelta(days=local.weekday())


def _community(query: ReportQuery, rows: Sequence[InteractionRow]) -> list[WeekFigures]:
    by_week: dict[date, list[InteractionRow]] = defaultdict(list)
    for row in rows:
        by_week[_week_start(row.created_at, query.timezone)].append(row)
    first = _week_start(query.since, query.timezone)
    last = _week_start(query.until - timedelta(microseconds=1), query.timezone)
    weeks, previous = [], None
    monday = first
    while monday <= last:
        items = by_week.get(monday, [])
        total = len(items)
        mentions = sum(1 for r in items if r.kind == "mention")
        replies = sum(1 for r in items if r.kind == "reply")
        year, number, _ = monday.isocalendar()
        weeks.append(
            WeekFigures(
                week=f"{year}-W{number:02d}",
                week_start=monday,
                mentions=mentions,
                replies=replies,
                other=total - mentions - replies,
                total=total,
                distinct_authors=len({(r.platform, r.author) for r in items}),
                growth=(total - previous) / previous if previous else None,
            )
        )
        previous, monday = total, monday + timedelta(days=7)
    return weeks


# --------------------------------------------------------------------------- when to post


def _when_to_post(query: ReportQuery, posts: Sequence[PostFigures]) -> list[PostingTimes]:
    by_platform: dict[str, list[tuple[datetime, int]]] = {p: [] for p in query.accounts.values()}
    for post in posts:
        if post.reactions is not None:
            by_platform[post.platform].append((post.published_at, post.reactions))
    rule = SlotRule(query.timezone, query.min_posts, query.min_slot_posts)
    return [posting_times(rule, name, rows) for name, rows in sorted(by_platform.items())]


# --------------------------------------------------------------------------- the report


def build_report(
    store: Store,
    query: ReportQuery,
    now: datetime,
    filters: tuple[Sequence[str], Sequence[str]] = ((), ()),
) -> Report:
    """Compute every section of the report, from the period ``[since, until)`` only.

    Args:
        store: The store to read.
        query: Period, accounts (with platforms) and options.
        now: When the report is made (shown in it).
        filters: The ``--account`` and ``--platform`` values given, to show in the report.

    Returns:
        The report, ready for :mod:`crosspost.reporting.report_render`.
    """
    names = sorted(query.accounts)
    rows = queries.published_posts(store, query.since, query.until, names)
    measured = queries.post_reactions(store, query.since, query.until, names)
    series = queries.account_snapshots(store, names, query.since, query.until)
    lookups = {name: _Series(series.get(name, [])) for name in names}
    totals = _conversion_totals(queries.conversions_for(store, {p.entry for p in rows}))
    posts = [_post_figures(query, p, measured.get(p.id), lookups[p.account], totals) for p in rows]
    top, bottom = _rank(posts, query.top)
    events = queries.follower_event_counts(store, names, query.since, query.until)
    by_account: dict[str, list[PostFigures]] = defaultdict(list)
    for post in posts:
        by_account[post.account].append(post)
    accounts = [
        _account_figures(query, name, lookups[name], events.get(name, {}), by_account[name])
        for name in names
    ]
    received = queries.interactions(store, names, query.since, query.until)
    return Report(
        generated_at=now.astimezone(UTC),
        since=query.since,
        until=query.until,
        timezone=str(query.timezone),
        accounts_filter=tuple(filters[0]),
        platforms_filter=tuple(filters[1]),
        posts=posts,
        top_posts=top,
        bottom_posts=bottom,
        accounts=accounts,
        followers=_follower_series(query, series),
        community=_community(query, received),
        when_to_post=_when_to_post(query, posts),
        responses=response_figures(store, query.accounts, query.since, query.until),
    )
