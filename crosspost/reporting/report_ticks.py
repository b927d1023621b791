"""Where the report's chart axes put their ticks: round numbers, round moments.

Pure arithmetic, without any geometry: a value axis gets ticks at 1, 2 or 5 × 10^k
steps (:func:`nice_ticks`, labelled by :func:`tick_label`), a time axis at whole hours,
local midnights, Mondays or first days of months (:func:`time_ticks`, labelled by
:func:`time_label`). :mod:`crosspost.reporting.report_chart_frame` places them on the
chart's axes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo

__all__ = ["nice_ticks", "tick_label", "time_label", "time_ticks"]

_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)


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


def time_label(moment: datetime, step_below_a_day: bool, months: bool) -> str:
    """A time tick's text: ``Mar 2024`` for months, ``Mar 05``, or ``Mar 05 12:00`` for hours."""
    if months:
        return moment.strftime("%b %Y")
    return moment.strftime("%b %d %H:%M" if step_below_a_day else "%b %d")
