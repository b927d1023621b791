"""The frame every time chart of the HTML report is drawn in: its size, shapes and axes.

A :class:`Chart` is a fixed-size SVG frame with a plot area inside its margins; its
lines (:class:`Line`) and bars (:class:`Bar`) are already in SVG coordinates, for
``templates/report.html.j2`` to draw as they are. :func:`y_axis` and :func:`x_axis`
give a chart its scales (value → coordinate) and its labelled ticks, from
:mod:`crosspost.reporting.report_ticks`. The charts themselves are built in
:mod:`crosspost.reporting.report_charts` and :mod:`crosspost.reporting.report_heatmaps`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta, tzinfo

from crosspost.reporting.report_figures import Report
from crosspost.reporting.report_ticks import nice_ticks, tick_label, time_label, time_ticks

__all__ = [
    "BOTTOM",
    "HEIGHT",
    "LEFT",
    "NO_DATA",
    "PALETTE",
    "RIGHT",
    "TOP",
    "WIDTH",
    "Bar",
    "Chart",
    "Line",
    "Scale",
    "x_axis",
    "y_axis",
]

NO_DATA = "no data yet"
#: Okabe–Ito colours: told apart by colour-blind readers and in greyscale print.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
#: The frame's size, then its margins around the plot area.
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 760, 280, 64, 16, 16, 52
_DAY = timedelta(days=1)

#: A value (a count, or a POSIX timestamp) to its SVG coordinate.
Scale = Callable[[float], float]


@dataclass(frozen=True)
class Line:
    """A polyline (``points``, as SVG writes them) and the dots of its data points."""

    label: str
    color: str
    points: str
    dots: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Bar:
    """A rectangle with its tooltip, and the post it links to when there is one."""

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
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    right: int = WIDTH - RIGHT
    bottom: int = HEIGHT - BOTTOM


def _scale(low: float, high: float, start: float, end: float) -> Scale:
    span = (high - low) or 1.0
    return lambda value: round(start + (value - low) / span * (end - start), 2)


def y_axis(low: float, high: float) -> tuple[Scale, tuple[tuple[float, str], ...]]:
    """The value axis over ``[low, high]``, first tick to last, in whole steps (counts)."""
    ticks = nice_ticks(low, high, integer=True)
    y = _scale(ticks[0], ticks[-1], HEIGHT - BOTTOM, TOP)
    return y, tuple((y(t), tick_label(t, ticks)) for t in ticks)


def x_axis(report: Report, zone: tzinfo) -> tuple[Scale, tuple[tuple[float, str], ...]]:
    """The time axis over the report's period, its ticks labelled in ``zone``."""
    start, end = report.since, report.until
    x = _scale(start.timestamp(), end.timestamp(), LEFT, WIDTH - RIGHT)
    ticks = time_ticks(start, end, zone)
    below_a_day = len(ticks) > 1 and ticks[1] - ticks[0] < _DAY
    months = len(ticks) > 1 and ticks[1] - ticks[0] > 27 * _DAY
    return x, tuple((x(t.timestamp()), time_label(t, below_a_day, months)) for t in ticks)
