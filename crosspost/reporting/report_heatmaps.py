"""The "when to post" heat maps of the HTML report: one weekday × hour grid per platform.

Each cell is shaded by the median reactions of the posts published in that hour of
that weekday (from :mod:`crosspost.reporting.posting_times`), on a scale whose swatches
make the grid's legend. A platform without enough data gets its empty frame and the
reason instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from crosspost.reporting.posting_times import PostingTimes
from crosspost.reporting.report_chart_frame import LEFT, Bar
from crosspost.reporting.report_figures import Report

__all__ = ["WEEKDAYS", "Heatmap", "heatmaps"]

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


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
            LEFT + c.hour * _CELL,
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
        tuple((LEFT + 140 + i * 56.0, _shade(f), f"{high * f:,.3g}") for i, f in enumerate(_STEPS))
        if cells
        else ()
    )
    return Heatmap(
        times.platform, times.message, times.advice, cells, legend, "" if cells else times.message
    )


def heatmaps(report: Report) -> list[Heatmap]:
    """One grid per platform; a platform without enough data gets its frame and why."""
    return [_heatmap(times) for times in report.when_to_post]
