"""The SVG charts of the HTML report: followers and reactions over the report's period.

Everything here is pure: a :class:`~crosspost.reporting.report_figures.Report` in, plain
dataclasses of coordinates and labels out, for ``templates/report.html.j2`` to draw. Every
time is shown in the report's zone (the project's ``timezone``), and every chart is drawn
even without data: its frame with "no data yet" inside.

The frame, its shapes and its axes are in :mod:`crosspost.reporting.report_chart_frame`,
the ticks' arithmetic in :mod:`crosspost.reporting.report_ticks`, the "when to post"
grids in :mod:`crosspost.reporting.report_heatmaps`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crosspost.reporting.report_chart_frame import (
    BOTTOM,
    HEIGHT,
    LEFT,
    NO_DATA,
    PALETTE,
    RIGHT,
    WIDTH,
    Bar,
    Chart,
    Line,
    Scale,
    x_axis,
    y_axis,
)
from crosspost.reporting.report_figures import PostFigures, Report

__all__ = [
    "followers_chart",
    "local_time",
    "post_link",
    "reactions_chart",
    "report_zone",
]

#: Above this many posts the reactions chart shows one bar per day instead of per post.
MAX_BARS = 150
_DAY = timedelta(days=1)


def report_zone(report: Report) -> tzinfo:
    """The report's zone as a tzinfo (UTC when the name is not an IANA zone)."""
    try:
        return ZoneInfo(report.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def post_link(url: str | None) -> str | None:
    """The post's address when it is a web address (never ``javascript:`` or the like)."""
    return url if url and url.startswith(("https://", "http://")) else None


def local_time(moment: datetime, zone: tzinfo) -> str:
    """``2024-03-05 12:00`` in ``zone``."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _empty(x_label: str, y_label: str, report: Report, zone: tzinfo) -> Chart:
    _, y_ticks = y_axis(0, 1)
    _, x_ticks = x_axis(report, zone)
    return Chart(x_label, y_label, y_ticks=y_ticks, x_ticks=x_ticks, empty=NO_DATA)


def followers_chart(report: Report) -> Chart:
    """Followers over time, one line per account, held flat until the period's end."""
    zone = report_zone(report)
    x_label, y_label = f"date ({report.timezone})", "followers"
    by_account: dict[str, list[tuple[float, int]]] = {}
    for sample in report.followers:
        moment = max(sample.collected_at, report.since).timestamp()
        by_account.setdefault(sample.account, []).append((moment, sample.followers))
    if not by_account:
        return _empty(x_label, y_label, report, zone)
    values = [v for points in by_account.values() for _, v in points]
    y, y_ticks = y_axis(min(values), max(values))
    x, x_ticks = x_axis(report, zone)
    lines = []
    for index, (account, points) in enumerate(sorted(by_account.items())):
        dots = tuple((x(t), y(v)) for t, v in points)
        # A flat line to the period's end: the count holds until the next snapshot.
        dots += ((x(report.until.timestamp()), dots[-1][1]),)
        text = " ".join(f"{a},{b}" for a, b in dots)
        lines.append(Line(account, PALETTE[index % len(PALETTE)], text, dots[:-1]))
    legend = tuple((line.label, line.color) for line in lines)
    return Chart(x_label, y_label, tuple(lines), y_ticks=y_ticks, x_ticks=x_ticks, legend=legend)


def _post_bar_title(post: PostFigures, zone: tzinfo) -> str:
    return (
        f"{post.title} — {post.account}, {local_time(post.published_at, zone)}: "
        f"{post.reactions:,} reactions"
    )


def _daily(posts: Sequence[PostFigures], zone: tzinfo) -> list[tuple[date, str, int, int]]:
    """Per local day and platform: (day, platform, reactions, posts)."""
    totals: dict[tuple[date, str], list[int]] = {}
    for post in posts:
        key = (post.published_at.astimezone(zone).date(), post.platform)
        totals.setdefault(key, []).append(post.reactions or 0)
    return [(d, p, sum(v), len(v)) for (d, p), v in sorted(totals.items())]


def reactions_chart(report: Report) -> Chart:
    """Reactions per post on a time axis; per day and platform when there are many posts."""
    zone = report_zone(report)
    posts = [p for p in report.posts if p.reactions is not None]
    per_day = len(posts) > MAX_BARS
    x_label = f"{'day' if per_day else 'published'} ({report.timezone})"
    y_label = "reactions per day" if per_day else "reactions"
    if not posts:
        return _empty(x_label, y_label, report, zone)
    colors = {
        name: PALETTE[i % len(PALETTE)]
        for i, name in enumerate(sorted({p.platform for p in posts}))
    }
    x, x_ticks = x_axis(report, zone)
    if per_day:
        bars, y_ticks = _day_bars(posts, x, colors, zone)
    else:
        bars, y_ticks = _post_bars(posts, x, colors, zone)
    return Chart(
        x_label,
        y_label,
        bars=bars,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        legend=tuple(sorted(colors.items())),
    )


def _day_bars(
    posts: list[PostFigures], x: Scale, colors: dict[str, str], zone: tzinfo
) -> tuple[tuple[Bar, ...], tuple[tuple[float, str], ...]]:
    """A bar per day and platform: the day's reactions (and the y axis's ticks)."""
    days = _daily(posts, zone)
    y, y_ticks = y_axis(0, max(total for _, _, total, _ in days))
    bars = tuple(
        _day_bar(day, platform, total, count, x, y, colors, zone)
        for day, platform, total, count in days
    )
    return bars, y_ticks


def _post_bars(
    posts: list[PostFigures], x: Scale, colors: dict[str, str], zone: tzinfo
) -> tuple[tuple[Bar, ...], tuple[tuple[float, str], ...]]:
    """A bar per post, linked to it: its reactions (and the y axis's ticks)."""
    y, y_ticks = y_axis(0, max(p.reactions or 0 for p in posts))
    width = max(2.0, min(12.0, (WIDTH - LEFT - RIGHT) / len(posts) * 0.8))
    bars = tuple(
        _bar(
            x(p.published_at.timestamp()),
            p.reactions or 0,
            width,
            y,
            colors[p.platform],
            _post_bar_title(p, zone),
            post_link(p.url),
        )
        for p in posts
    )
    return bars, y_ticks


def _bar(
    centre: float, value: int, width: float, y: Scale, color: str, title: str, href: str | None
) -> Bar:
    top = y(value)
    height = max(round(HEIGHT - BOTTOM - top, 2), 1.0)
    return Bar(
        round(centre - width / 2, 2),
        min(top, HEIGHT - BOTTOM - 1.0),
        round(width, 2),
        height,
        color,
        title,
        href,
    )


def _day_bar(
    day: date,
    platform: str,
    total: int,
    count: int,
    x: Scale,
    y: Scale,
    colors: dict[str, str],
    zone: tzinfo,
) -> Bar:
    start = datetime.combine(day, datetime.min.time(), zone)
    left, right = x(start.timestamp()), x((start + _DAY).timestamp())
    title = f"{day:%a %b %d} on {platform}: {total:,} reactions over {count:,} posts"
    return _bar(
        (left + right) / 2, total, max(1.0, (right - left) * 0.8), y, colors[platform], title, None
    )
