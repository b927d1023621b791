"""The SVG charts of the HTML report: axes with "nice" ticks, and chart geometry.

Everything here is pure: a :class:`~crosspost.reporting.report.Report` in, plain dataclasses of
coordinates and labels out, for ``templates/report.html.j2`` to draw. Every time
is shown in the report's zone (the project's ``timezone``), and every chart is drawn
even without data: its frame with "no data yet" inside.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crosspost.reporting.posting_times import PostingTimes
from crosspost.reporting.report_figures import PostFigures, Report

__all__ = [
    "NO_DATA",
    "WEEKDAYS",
    "Bar",
    "Chart",
    "Heatmap",
    "Line",
    "followers_chart",
    "heatmaps",
    "local_time",
    "nice_ticks",
    "post_link",
    "reactions_chart",
    "report_zone",
    "tick_label",
    "time_ticks",
]

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
NO_DATA = "no data yet"
#: Okabe–Ito colours: told apart by colour-blind readers and in greyscale print.
_PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
_W, _H, _LEFT, _RIGHT, _TOP, _BOTTOM = 760, 280, 64, 16, 16, 52
#: Above this many posts the reactions chart shows one bar per day instead of per post.
MAX_BARS = 150
_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)

Scale = Callable[[float], float]


# --------------------------------------------------------------------------- ticks


def _nice_step(span: float, count: int) -> float:
    """The 1, 2 or 5 × 10^k step that cuts ``span`` into about ``count - 1`` parts."""
    raw = span / max(count - 1, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5):
        if raw <= factor * power * (1 + 1e-9):
            return factor * power
    return 10 * power


def nice_ticks(low: float, high: float, count: int = 5, integer: bool = False) -> list[float]:
    """Ticks at 1, 2 or 5 × 10^k steps covering ``[low, high]``, from below to above it.

    ``integer`` keeps the step at 1 or more (counts of posts, followers, reactions).
    The first and last ticks are the axis bounds: the data lies between them.
    """
    low, high = min(low, high), max(low, high)
    if high - low < 1e-12:
        low, high = (
            (low, low + 1) if integer or low == 0 else (low - abs(low) / 2, high + abs(high) / 2)
        )
    step = _nice_step(high - low, count)
    if integer:
        step = max(step, 1.0)
    first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
    places = max(0, -math.floor(math.log10(step)))
    return [round(n * step, places) for n in range(first, last + 1)]


def tick_label(value: float, ticks: Sequence[float]) -> str:
    """A tick's text with the decimals its step needs: ``1,200``, ``0.5``, ``2.25``."""
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    places = next((d for d in range(10) if abs(round(step, d) - step) < 1e-9 * max(step, 1)), 10)
    return f"{value:,.{places}f}"


#: Candidate steps of a time axis below a week, then whole weeks.
_TIME_STEPS = (
    *(h * _HOUR for h in (1, 2, 3, 6, 12)),
    _DAY,
    2 * _DAY,
    7 * _DAY,
    14 * _DAY,
)
_MONTH_STEPS = (1, 2, 3, 6, 12)


def _month_ticks(start: datetime, end: datetime, zone: tzinfo, count: int) -> list[datetime]:
    first, last = start.astimezone(zone), end.astimezone(zone)
    months = (last.year - first.year) * 12 + last.month - first.month
    step = next(
        (m for m in _MONTH_STEPS if months / m <= count), 12 * math.ceil(months / 12 / count)
    )
    index = first.year * 12 + first.month - 1
    index += (-index) % step if first.day == 1 and first.hour == 0 else step - index % step
    ticks: list[datetime] = []
    while True:
        moment = datetime(index // 12, index % 12 + 1, 1, tzinfo=zone)
        if moment > last:
            return ticks
        ticks.append(moment)
        index += step


def time_ticks(start: datetime, end: datetime, zone: tzinfo, count: int = 7) -> list[datetime]:
    """At most ``count`` round moments in ``[start, end]``: whole hours, local midnights,
    Mondays or first days of months, whichever step fits."""
    span = end - start
    step = next((s for s in _TIME_STEPS if span / s <= count), None)
    if step is None:
        return _month_ticks(start, end, zone, count)
    local = start.astimezone(zone)
    if step < _DAY:
        moment = local.replace(minute=0, second=0, microsecond=0)
        if moment < local:
            moment += _HOUR
        while moment.hour % (step // _HOUR):
            moment += _HOUR
    else:
        day = local.date() + (_DAY if local.time() != datetime.min.time() else timedelta())
        if step >= 7 * _DAY:
            day += timedelta(days=(-day.weekday()) % 7)
        moment = datetime.combine(day, datetime.min.time(), zone)
    ticks: list[datetime] = []
    while moment <= end:
        ticks.append(moment)
        moment += step  # wall-clock arithmetic: a DST change keeps ticks at midnight
    return ticks


def _time_label(moment: datetime, step_below_a_day: bool, months: bool) -> str:
    if months:
        return moment.strftime("%b %Y")
    return moment.strftime("%b %d %H:%M" if step_below_a_day else "%b %d")


# --------------------------------------------------------------------------- zone


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


# --------------------------------------------------------------------------- charts


@dataclass(frozen=True)
class Line:
    label: str
    color: str
    points: str
    dots: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    title: str
    href: str | None = None


@dataclass(frozen=True)
class Chart:
    """One framed chart: the plot area is ``[left, right] × [top, bottom]``."""

    x_label: str
    y_label: str
    lines: tuple[Line, ...] = ()
    bars: tuple[Bar, ...] = ()
    y_ticks: tuple[tuple[float, str], ...] = ()
    x_ticks: tuple[tuple[float, str], ...] = ()
    legend: tuple[tuple[str, str], ...] = ()
    empty: str = ""
    width: int = _W
    height: int = _H
    left: int = _LEFT
    top: int = _TOP
    right: int = _W - _RIGHT
    bottom: int = _H - _BOTTOM


def _scale(low: float, high: float, start: float, end: float) -> Scale:
    span = (high - low) or 1.0
    return lambda value: round(start + (value - low) / span * (end - start), 2)


def _y_axis(low: float, high: float) -> tuple[Scale, tuple[tuple[float, str], ...]]:
    ticks = nice_ticks(low, high, integer=True)
    y = _scale(ticks[0], ticks[-1], _H - _BOTTOM, _TOP)
    return y, tuple((y(t), tick_label(t, ticks)) for t in ticks)


def _x_axis(report: Report, zone: tzinfo) -> tuple[Scale, tuple[tuple[float, str], ...]]:
    start, end = report.since, report.until
    x = _scale(start.timestamp(), end.timestamp(), _LEFT, _W - _RIGHT)
    ticks = time_ticks(start, end, zone)
    below_a_day = len(ticks) > 1 and ticks[1] - ticks[0] < _DAY
    months = len(ticks) > 1 and ticks[1] - ticks[0] > 27 * _DAY
    return x, tuple((x(t.timestamp()), _time_label(t, below_a_day, months)) for t in ticks)


def _empty(x_label: str, y_label: str, report: Report, zone: tzinfo) -> Chart:
    _, y_ticks = _y_axis(0, 1)
    _, x_ticks = _x_axis(report, zone)
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
    y, y_ticks = _y_axis(min(values), max(values))
    x, x_ticks = _x_axis(report, zone)
    lines = []
    for index, (account, points) in enumerate(sorted(by_account.items())):
        dots = tuple((x(t), y(v)) for t, v in points)
        # A flat line to the period's end: the count holds until the next snapshot.
        dots += ((x(report.until.timestamp()), dots[-1][1]),)
        text = " ".join(f"{a},{b}" for a, b in dots)
        lines.append(Line(account, _PALETTE[index % len(_PALETTE)], text, dots[:-1]))
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
        name: _PALETTE[i % len(_PALETTE)]
        for i, name in enumerate(sorted({p.platform for p in posts}))
    }
    x, x_ticks = _x_axis(report, zone)
    if per_day:
        days = _daily(posts, zone)
        y, y_ticks = _y_axis(0, max(total for _, _, total, _ in days))
        bars = tuple(
            _day_bar(day, platform, total, count, x, y, colors, zone)
            for day, platform, total, count in days
        )
    else:
        y, y_ticks = _y_axis(0, max(p.reactions or 0 for p in posts))
        width = max(2.0, min(12.0, (_W - _LEFT - _RIGHT) / len(posts) * 0.8))
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
    return Chart(
        x_label,
        y_label,
        bars=bars,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        legend=tuple(sorted(colors.items())),
    )


def _bar(
    centre: float, value: int, width: float, y: Scale, color: str, title: str, href: str | None
) -> Bar:
    top = y(value)
    height = max(round(_H - _BOTTOM - top, 2), 1.0)
    return Bar(
        round(centre - width / 2, 2),
        min(top, _H - _BOTTOM - 1.0),
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


# --------------------------------------------------------------------------- heat maps


@dataclass(frozen=True)
class Heatmap:
    """A weekday × hour grid; ``legend`` is (x, colour, label) swatches of its colour scale."""

    platform: str
    message: str
    advice: str
    cells: tuple[Bar, ...]
    legend: tuple[tuple[float, str, str], ...]
    empty: str


_CELL = 28
_STEPS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _shade(fraction: float) -> str:
    return f"rgba(0, 114, 178, {0.15 + 0.85 * fraction:.2f})"


def _heatmap(times: PostingTimes) -> Heatmap:
    high = max((c.median_reactions for c in times.cells), default=0) or 1.0
    cells = tuple(
        Bar(
            _LEFT + c.hour * _CELL,
            8 + (c.weekday - 1) * _CELL,
            _CELL - 2,
            _CELL - 2,
            _shade(c.median_reactions / high),
            f"{WEEKDAYS[c.weekday - 1]} {c.hour:02d}:00: median {c.median_reactions:g} "
            f"reactions over {c.posts} posts",
        )
        for c in times.cells
    )
    legend = (
        tuple((_LEFT + 140 + i * 56.0, _shade(f), f"{high * f:,.3g}") for i, f in enumerate(_STEPS))
        if cells
        else ()
    )
    return Heatmap(
        times.platform, times.message, times.advice, cells, legend, "" if cells else times.message
    )


def heatmaps(report: Report) -> list[Heatmap]:
    """One grid per platform; a platform without enough data gets its frame and why."""
    return [_heatmap(times) for times in report.when_to_post]
