"""The figures of ``crosspost report`` as data: what is asked, and every section's rows.

:func:`crosspost.reporting.report.build_report` fills a :class:`Report` from a
:class:`ReportQuery`; :mod:`crosspost.cli.report_output` writes it in each format. The
meaning of every field is documented in ``docs/report-formats.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo

from crosspost.reporting.posting_times import (
    MIN_POSTS_FOR_TIMES,
    MIN_POSTS_PER_SLOT,
    PostingTimes,
)
from crosspost.reporting.report_responses import ResponseFigures

__all__ = [
    "AccountFigures",
    "FollowerSample",
    "PostFigures",
    "RankedPost",
    "Report",
    "ReportQuery",
    "WeekFigures",
]


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
