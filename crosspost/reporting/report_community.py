"""The community section of ``crosspost report``: what members wrote, week by week.

Mentions, replies and the other items members wrote are counted per ISO week, the
weeks starting on Monday in the schedule's timezone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta, tzinfo

from crosspost.report_rows import InteractionRow
from crosspost.reporting.report_figures import ReportQuery, WeekFigures

__all__ = ["community_weeks"]


def _week_start(moment: datetime, zone: tzinfo) -> date:
    local = moment.astimezone(zone).date()
    return local - timedelta(days=local.weekday())


def community_weeks(query: ReportQuery, rows: Sequence[InteractionRow]) -> list[WeekFigures]:
    """One row per week of the period (empty weeks too), each with its growth on the last."""
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
