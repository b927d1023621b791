"""The figures of ``crosspost report``: reactions, audience, community and posting times.

Everything here is computed from the store's rows (see :mod:`~crosspost.report_rows`);
nothing is fetched from a platform. :func:`build_report` returns a :class:`Report`
that :mod:`crosspost.cli.report_output` writes as a table, CSV, JSON or HTML.
The meaning of every figure is documented in ``docs/report-formats.md``.

Each section is computed in a module of its own: the posts in
:mod:`~crosspost.reporting.report_posts`, the audience in
:mod:`~crosspost.reporting.report_audience`, the community in
:mod:`~crosspost.reporting.report_community`, posting times in
:mod:`~crosspost.reporting.posting_times` and the answers to members in
:mod:`~crosspost.reporting.report_responses`. The figures' dataclasses live in
:mod:`~crosspost.reporting.report_figures` and the period's parsing in
:mod:`~crosspost.reporting.report_period`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

from crosspost.report_rows import ReportSource
from crosspost.reporting.posting_times import PostingTimes, SlotRule, posting_times
from crosspost.reporting.report_audience import (
    FollowerSeries,
    account_figures,
    follower_samples,
)
from crosspost.reporting.report_community import community_weeks
from crosspost.reporting.report_figures import PostFigures, Report, ReportQuery
from crosspost.reporting.report_posts import conversion_totals, post_figures, rank_posts
from crosspost.reporting.report_responses import response_figures

__all__ = [
    "build_report",
]


def _when_to_post(query: ReportQuery, posts: Sequence[PostFigures]) -> list[PostingTimes]:
    by_platform: dict[str, list[tuple[datetime, int]]] = {p: [] for p in query.accounts.values()}
    for post in posts:
        if post.reactions is not None:
            by_platform[post.platform].append((post.published_at, post.reactions))
    rule = SlotRule(query.timezone, query.min_posts, query.min_slot_posts)
    return [posting_times(rule, name, rows) for name, rows in sorted(by_platform.items())]


def build_report(
    source: ReportSource,
    query: ReportQuery,
    now: datetime,
    filters: tuple[Sequence[str], Sequence[str]] = ((), ()),
) -> Report:
    """Compute every section of the report, from the period ``[since, until)`` only.

    Args:
        source: Where the store's rows are read.
        query: Period, accounts (with platforms) and options.
        now: When the report is made (shown in it).
        filters: The ``--account`` and ``--platform`` values given, to show in the report.

    Returns:
        The report, ready for :mod:`crosspost.cli.report_output`.
    """
    names = sorted(query.accounts)
    rows = source.published_posts(query.since, query.until, names)
    measured = source.post_reactions(query.since, query.until, names)
    series = source.account_snapshots(names, query.since, query.until)
    lookups = {name: FollowerSeries(series.get(name, [])) for name in names}
    totals = conversion_totals(source.conversions_for({p.entry for p in rows}))
    posts = [post_figures(query, p, measured.get(p.id), lookups[p.account], totals) for p in rows]
    top, bottom = rank_posts(posts, query.top)
    events = source.follower_event_counts(names, query.since, query.until)
    by_account: dict[str, list[PostFigures]] = defaultdict(list)
    for post in posts:
        by_account[post.account].append(post)
    accounts = [
        account_figures(query, name, lookups[name], events.get(name, {}), by_account[name])
        for name in names
    ]
    received = source.interactions(names, query.since, query.until)
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
        followers=follower_samples(query, series),
        community=community_weeks(query, received),
        when_to_post=_when_to_post(query, posts),
        responses=response_figures(source, query.accounts, query.since, query.until),
    )
