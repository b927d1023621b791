"""The period of ``crosspost report`` (and ``inbox --since``): ``--since`` and ``--until``.

``--since`` is a duration back from now or a date; ``--until`` a date (that whole day
included) or a time. Dates without a zone are read in the schedule's ``timezone``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from crosspost.loading.durations import parse_duration

__all__ = ["parse_since", "parse_until"]


def _parse_day(text: str, zone: tzinfo) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def parse_since(text: str, zone: tzinfo, now: datetime) -> datetime:
    """``30d`` (before ``now``), a date (its midnight in ``zone``) or an ISO 8601 time.

    Raises:
        ValueError: neither a duration nor a date.
    """
    moment = _parse_day(text.strip(), zone)
    if moment is not None:
        return moment.astimezone(UTC)
    try:
        return (now - parse_duration(text)).astimezone(UTC)
    except ValueError:
        raise ValueError(
            f"{text!r} is neither a duration (30d, 12h, 2w) nor a date (2024-05-01)"
        ) from None


def parse_until(text: str | None, zone: tzinfo, now: datetime) -> datetime:
    """End of the period: ``now`` when None; a bare date includes that whole day.

    Raises:
        ValueError: not a date or ISO 8601 time.
    """
    if text is None:
        return now.astimezone(UTC)
    text = text.strip()
    moment = _parse_day(text, zone)
    if moment is None:
        raise ValueError(f"{text!r} is not a date (2024-05-31) or time (2024-05-31T18:00)")
    if len(text) == 10:
        moment += timedelta(days=1)
    return moment.astimezone(UTC)
