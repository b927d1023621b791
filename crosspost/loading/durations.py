"""Durations as people write them (``90s``, ``1h30m``, ``2d``), bounded.

Kept apart from :mod:`crosspost.loading.schedule` so that commands which only read a
``--max-age`` or ``--until`` (``status``, ``health``) do not import the schedule's models.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Any

__all__ = ["MAX_DURATION", "UNIT_SECONDS", "parse_duration"]

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(w|d|h|m|s)", re.IGNORECASE)
#: Seconds in each unit a duration may be written in.
UNIT_SECONDS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}

#: The longest duration anywhere (``every``, ``grace``, ``--until``…): 100 years.
MAX_DURATION = timedelta(days=36_500)


def parse_duration(value: Any) -> timedelta:
    """``"90s"``, ``"15m"``, ``"1h30m"``, ``"2d"``, ``"1w"`` (or seconds as a number).

    Raises:
        ValueError: not a duration, not longer than zero, or longer than :data:`MAX_DURATION`.
    """
    if isinstance(value, timedelta):
        return _bounded(value.total_seconds(), value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _bounded(float(value), value)
    text = str(value).strip().replace(" ", "")
    if not text or _DURATION_PART.sub("", text):
        raise ValueError(f"{value!r} is not a duration (expected e.g. 90s, 15m, 1h30m, 2d, 1w)")
    seconds = sum(
        float(number) * UNIT_SECONDS[unit.lower()] for number, unit in _DURATION_PART.findall(text)
    )
    return _bounded(seconds, value)


def _bounded(seconds: float, value: Any) -> timedelta:
    # checked as a float first: timedelta() itself overflows long before .inf
    if not math.isfinite(seconds) or seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"{value!r} is longer than the limit of {MAX_DURATION.days}d (100 years)")
    if seconds <= 0:
        raise ValueError(f"{value!r} must be longer than zero")
    return timedelta(seconds=seconds)
