"""Durations as people say them: ``45 s``, ``12 min``, ``3 h``, ``2 d``."""

from __future__ import annotations

from datetime import timedelta

__all__ = ["duration"]

_UNITS = (("d", 86400), ("h", 3600), ("min", 60))


def duration(span: timedelta) -> str:
    """``span`` in its largest unit, rounded (2 h 59 min is "3 h"); negative counts as zero."""
    seconds = max(round(span.total_seconds()), 0)
    for unit, size in _UNITS:
        if seconds >= size:
            return f"{round(seconds / size)} {unit}"
    return f"{seconds} s"
