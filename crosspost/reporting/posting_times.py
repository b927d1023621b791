"""When to post: which weekday × hour slots did better than the median, and how surely.

A slot is shown only with enough posts in it, with a distribution-free range for its
median, so one lucky post never becomes advice (``docs/report-formats.md``).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

__all__ = [
    "MIN_POSTS_FOR_TIMES",
    "MIN_POSTS_PER_SLOT",
    "HeatCell",
    "PostingTimes",
    "SlotRule",
    "median_range",
    "posting_times",
    "slot_statement",
]

#: Posts with metrics a platform needs before "when to post" is shown.
MIN_POSTS_FOR_TIMES = 20
#: Posts a weekday × hour slot needs before it is shown or advised.
MIN_POSTS_PER_SLOT = 5
#: Slots named in the plain-language advice, best first.
_ADVISED_SLOTS = 3


@dataclass(frozen=True)
class HeatCell:
    """Median reactions of the posts published in one weekday × hour slot.

    ``ratio`` compares the slot's median with the platform's median over every measured
    post; ``ratio_low``/``ratio_high`` bound it with the slot median's ~95 % range.
    """

    weekday: int
    hour: int
    posts: int
    median_reactions: float
    ratio: float | None = None
    ratio_low: float | None = None
    ratio_high: float | None = None


@dataclass(frozen=True)
class PostingTimes:
    """When to post on one platform, from the project's own history."""

    platform: str
    posts: int
    enough_data: bool
    message: str
    cells: tuple[HeatCell, ...] = ()
    advice: str = ""


@dataclass(frozen=True)
class SlotRule:
    """How slots are made: the zone of weekdays and hours, and the posts each needs."""

    timezone: tzinfo
    min_posts: int = MIN_POSTS_FOR_TIMES
    min_slot_posts: int = MIN_POSTS_PER_SLOT


def median_range(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """A distribution-free range for the median of sorted ``values``.

    The order statistics ``x(k)`` and ``x(n+1-k)`` with the largest ``k`` for which
    ``P(Binomial(n, ½) < k) ≤ (1 - confidence) / 2``; with too few values (fewer than
    6 for 95 %) that is the whole range, min to max.
    """
    n, tail, k = len(values), (1 - confidence) / 2, 1
    below = 0.0  # P(Binomial(n, ½) ≤ k - 1), growing with k
    while k < (n + 1) // 2:
        below += math.comb(n, k - 1) / 2**n
        if below + math.comb(n, k) / 2**n > tail:
            break
        k += 1
    return values[k - 1], values[n - k]


def _slot_cell(weekday: int, hour: int, values: list[int], overall: float) -> HeatCell:
    values.sort()
    median = float(statistics.median(values))
    if not overall:
        return HeatCell(weekday, hour, len(values), median)
    low, high = median_range(values)
    return HeatCell(
        weekday, hour, len(values), median, median / overall, low / overall, high / overall
    )


_POSTS_FOR_95 = 6
_DAY_NAMES = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")


def slot_statement(cell: HeatCell) -> str:
    """``Tuesdays 18:00–19:00 got 2.1× the median reactions (95 % range 1.4–3.0×), 14 posts``."""
    when = f"{_DAY_NAMES[cell.weekday - 1]} {cell.hour:02d}:00–{(cell.hour + 1) % 24:02d}:00"
    if cell.ratio is None or cell.ratio_low is None or cell.ratio_high is None:
        return f"{when}: median {cell.median_reactions:g} reactions, {cell.posts} posts"
    # Below 6 posts the order statistics give the whole range, not a 95 % one.
    kind = "95 % range" if cell.posts >= _POSTS_FOR_95 else "range"
    return (
        f"{when} got {cell.ratio:.1f}× the median reactions "
        f"({kind} {cell.ratio_low:.1f}–{cell.ratio_high:.1f}×), {cell.posts} posts"
    )


def posting_times(
    rule: SlotRule, platform: str, measured: Sequence[tuple[datetime, int]]
) -> PostingTimes:
    """When to post on ``platform``, from its posts' publishing times and reactions."""
    if len(measured) < rule.min_posts:
        count = f"{len(measured)} post{'' if len(measured) == 1 else 's'}"
        message = f"not enough data yet ({count} with reactions, {rule.min_posts} needed)"
        return PostingTimes(platform, len(measured), False, message)
    slots: dict[tuple[int, int], list[int]] = defaultdict(list)
    for published_at, reactions in measured:
        local = published_at.astimezone(rule.timezone)
        slots[(local.isoweekday(), local.hour)].append(reactions)
    overall = float(statistics.median(r for _, r in measured))
    cells = tuple(
        _slot_cell(day, hour, values, overall)
        for (day, hour), values in sorted(slots.items())
        if len(values) >= rule.min_slot_posts
    )
    if not cells:
        message = (
            f"not enough data yet ({len(measured)} posts, but no weekday × hour "
            f"with {rule.min_slot_posts} or more)"
        )
        return PostingTimes(platform, len(measured), False, message)
    ranked = sorted(cells, key=lambda c: (-(c.ratio or 0), -c.median_reactions, -c.posts))
    better = [c for c in ranked if c.ratio is None or c.ratio > 1][:_ADVISED_SLOTS]
    advice = (
        "; ".join(slot_statement(c) for c in better)
        or "no weekday × hour did better than the median yet"
    )
    return PostingTimes(platform, len(measured), True, f"{len(measured)} posts", cells, advice)
