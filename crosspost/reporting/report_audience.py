"""The audience section of ``crosspost report``: followers, growth and churn per account.

Follower counts come from the account snapshots collected in the period; joins and
leaves only from the follower events of platforms that list followers
(:attr:`~crosspost.reporting.report_figures.ReportQuery.exact_followers`).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from datetime import datetime

from crosspost.report_rows import FollowerPoint
from crosspost.reporting.report_figures import (
    AccountFigures,
    FollowerSample,
    PostFigures,
    ReportQuery,
)

__all__ = ["FollowerSeries", "account_figures", "follower_samples"]


class FollowerSeries:
    """An account's follower points with their times, for repeated "followers at" lookups."""

    def __init__(self, points: Sequence[FollowerPoint]) -> None:
        self.points = points
        self.times = [p.collected_at for p in points]

    def at(self, moment: datetime) -> int | None:
        """Followers in the latest snapshot at or before ``moment``."""
        index = bisect.bisect_right(self.times, moment)
        return self.points[index - 1].followers if index else None


def _start_followers(series: FollowerSeries, since: datetime) -> int | None:
    before = series.at(since)
    if before is not None:
        return before
    return next((p.followers for p in series.points if p.collected_at >= since), None)


def account_figures(
    query: ReportQuery,
    account: str,
    series: FollowerSeries,
    events: Mapping[str, int],
    posts: Sequence[PostFigures],
) -> AccountFigures:
    """Followers at the start and end of the period, joins and leaves (only where the
    platform lists followers), and the output of ``posts``, the account's posts in it."""
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


def follower_samples(
    query: ReportQuery, series: Mapping[str, Sequence[FollowerPoint]]
) -> list[FollowerSample]:
    """Every account's followers over time, from its last point before the period on."""
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
