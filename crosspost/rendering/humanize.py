"""Durations and counts as people say them: ``45 s``, ``3 h``; ``1 entry``, ``2 entries``."""

from __future__ import annotations

from datetime import timedelta

__all__ = ["counted", "duration"]

_UNITS = (("d", 86400), ("h", 3600), ("min", 60))


def duration(span: timedelta) -> str:
    """``span`` in its largest unit, rounded (2 h 59 min is "3 h"); negative counts as zero."""
    seconds = max(round(span.total_seconds()), 0)
    for unit, size in _UNITS:
        if seconds >= size:
            return f"{round(seconds / size)} {unit}"
    return f"{seconds} s"


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """``1 entry``, ``2,000 entries``: ``number`` with ``noun`` or its ``plural``
    (``noun`` + "s" unless given)."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"
