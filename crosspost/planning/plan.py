"""When posts fall due: occurrences of each entry's trigger, in its own time zone.

APScheduler 3.x triggers compute the fire times (``DateTrigger``,
``CronTrigger``, ``IntervalTrigger``) in the entry's IANA zone; results are
stored in UTC. Every occurrence has a key that is unique within its entry:

* ``at`` and ``cron``: the local wall-clock time as written (``2026-11-01T01:30``).
  On a fall-back night the repeated hour has the same key twice, so a daily
  01:30 post fires once (the first of the two instants).
* ``every``: the UTC instant, since an interval is elapsed time and both
  instants of a repeated hour are real, distinct occurrences.

A local time skipped by spring-forward (02:30 when clocks jump from 02:00 to
03:00) fires at the same offset as before the change: one hour later on the
wall clock (03:30), which is how ``zoneinfo`` reads a non-existent time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crosspost.loading.posts_spec import PostSpec

__all__ = [
    "Occurrence",
    "cron_trigger",
    "first_fire_time",
    "last_due",
    "occurrences",
    "trigger_for",
]

#: Far enough back that an ``every`` grid without ``start`` is stable.
_GRID_ORIGIN = datetime(2000, 1, 3)  # a Monday, so weekly grids start on Mondays
_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_STEP = timedelta(seconds=1)
_GIVE_UP = timedelta(days=2)


@dataclass(frozen=True, order=True)
class Occurrence:
    """One moment an entry falls due."""

    due_at: datetime  # UTC
    entry: str
    key: str
    local: datetime  # aware, in the entry's zone


def _aware(value: datetime, zone: ZoneInfo) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=zone)


def _cron_day_of_week(field: str) -> str:
    """Standard cron weekdays (0 or 7 = Sunday) as names, since APScheduler 3 has 0 = Monday."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        days |= _cron_day_part(part.lower())
    return ",".join(_DAY_NAMES[d] for d in sorted(days))


def _cron_day_part(part: str) -> set[int]:
    range_part, _, step_text = part.partition("/")
    step = int(step_text) if step_text else 1
    if range_part == "*":
        low, high = 0, 6
    elif "-" in range_part:
        low_text, high_text = range_part.split("-", 1)
        low, high = _day_number(low_text), _day_number(high_text)
    else:
        low = high = _day_number(range_part)
        if step_text:
            high = 6
    if high < low and high == 0:
        high = 7
    return {day % 7 for day in range(low, high + 1, step)}


def _day_number(text: str) -> int:
    if text in _DAY_NAMES:
        return _DAY_NAMES.index(text)
    number = int(text)
    if not 0 <= number <= 7:
        raise ValueError(f"day of week {number} is out of range 0-7")
    return number


@lru_cache(maxsize=4096)
def cron_trigger(expression: str, zone: ZoneInfo, end: datetime | None = None) -> BaseTrigger:
    """A trigger for a standard 5-field crontab line (minute hour day month weekday).

    Built once per line, zone and end, and shared (a trigger is only read): building
    one takes 33 µs, 1.6 s for 50,000 entries, and each entry's was built at every
    load, sync and start banner, while an agency's thousands of entries share a few
    lines ("0 9 * * 1-5"). The cache holds at most 4,096 (2.3 KB each).

    As in standard cron, when both day-of-month and day-of-week are restricted
    (neither starts with ``*``), a day matching either one fires (``0 9 1 * 1``:
    the 1st of the month and every Monday); APScheduler alone would need both.
    Several lines separated by ``;`` fire whenever any of them does (a queue's slots).

    Raises:
        ValueError: not five fields, or a field APScheduler does not accept (named).
    """
    lines = [line.strip() for line in expression.split(";")]
    if len(lines) > 1:
        if not all(lines):
            raise ValueError(f'cron "{expression}" has an empty line between its ";"')
        return OrTrigger([cron_trigger(line, zone, end) for line in lines])
    fields = _cron_fields(expression)
    try:
        if not fields["day"].startswith("*") and not expression.split()[4].startswith("*"):
            day_of_month = {name: value for name, value in fields.items() if name != "day_of_week"}
            day_of_week = {name: value for name, value in fields.items() if name != "day"}
            return OrTrigger(
                [
                    CronTrigger(**day_of_month, timezone=zone, end_date=end),
                    CronTrigger(**day_of_week, timezone=zone, end_date=end),
                ]
            )
        return CronTrigger(**fields, timezone=zone, end_date=end)
    except ValueError as exc:
        raise ValueError(_cron_field_problem(expression, fields) or str(exc)) from None


#: The five fields of a crontab line: APScheduler's name, and the name people know.
_CRON_FIELDS = (
    ("minute", "minute"),
    ("hour", "hour"),
    ("day", "day-of-month"),
    ("month", "month"),
    ("day_of_week", "day-of-week"),
)


def _cron_fields(expression: str) -> dict[str, str]:
    """The fields of one crontab line as APScheduler names and reads them."""
    written = expression.split()
    if len(written) != 5:
        raise ValueError(
            f'cron "{expression}" has {len(written)} fields '
            "(expected 5: minute hour day-of-month month day-of-week)"
        )
    fields = {name: value for (name, _), value in zip(_CRON_FIELDS, written, strict=True)}
    weekday = fields["day_of_week"]
    if re.search(r"[a-z]", weekday, re.IGNORECASE) is None or weekday == "*":
        try:
            fields["day_of_week"] = _cron_day_of_week(weekday)  # cron counts from Sunday
        except ValueError as exc:
            raise ValueError(f'cron "{expression}": day-of-week "{weekday}": {exc}') from None
    return fields


def _cron_field_problem(expression: str, fields: dict[str, str]) -> str | None:
    """Which field of a refused line is wrong, and why, in cron's own words and numbers.

    Only asked once a line was refused: trying each field alone costs a trigger each.
    """
    written = expression.split()
    for at, (name, known_as) in enumerate(_CRON_FIELDS):
        try:
            CronTrigger(**{name: fields[name]}, timezone=UTC)
        except ValueError as exc:
            reason = re.sub(r"^Error validating expression '[^']*': ", "", str(exc))
            return f'cron "{expression}": {known_as} "{written[at]}": {reason}'
    return None


def trigger_for(post: PostSpec, zone: ZoneInfo) -> BaseTrigger:
    """The APScheduler trigger of an entry, in ``zone``.

    Raises:
        ValueError: the trigger's fields are invalid.
    """
    end = _aware(post.until, zone) if post.until else None
    if post.at is not None:
        return DateTrigger(run_date=_aware(post.at, zone), timezone=zone)
    if post.cron is not None:
        return cron_trigger(post.cron, zone, end)
    assert post.every is not None
    # An interval is elapsed time: computed in UTC so that DST changes neither
    # stretch nor skip it (use cron for "same wall-clock time every day").
    start = _aware(post.start or _GRID_ORIGIN, zone).astimezone(UTC)
    return IntervalTrigger(
        seconds=max(1, int(post.every.total_seconds())),
        start_date=start,
        end_date=end.astimezone(UTC) if end else None,
        timezone=UTC,
    )


def last_due(post: PostSpec, zone: ZoneInfo) -> datetime | None:
    """No occurrence of ``post`` falls after this moment (a wall time skipped by
    spring-forward goes out up to an hour later); None if it goes on for ever, or if
    its time comes from the queues' slots."""
    if post.next_slot:
        return None
    entry_zone = post.timezone or zone
    last = post.at if post.at is not None else post.until
    return None if last is None else _aware(last, entry_zone)


def occurrences(
    post: PostSpec, zone: ZoneInfo, start: datetime, end: datetime, limit: int = 10_000
) -> list[Occurrence]:
    """Occurrences of ``post`` with ``start <= due_at < end`` (both UTC), at most ``limit``."""
    if post.next_slot:  # its time comes from the queues' slots (crosspost.planning.slots)
        return []
    entry_zone = post.timezone or zone
    trigger = trigger_for(post, entry_zone)
    if post.cron is None:
        times = _times(trigger, entry_zone, start, end, limit, every=post.every is not None)
    else:
        times = _shared_cron_times(trigger, entry_zone, start, end, limit)
    return [Occurrence(due, post.id, key, local) for due, key, local in times]


#: An occurrence without its entry: due (UTC), key, local time.
_Time = tuple[datetime, str, datetime]
#: Times of cron lines by (trigger, zone, start, end, limit): every entry of a line asks
#: for the same window in a sync, an extension or the start banner (see _shared_cron_times).
_CRON_TIMES: dict[tuple[BaseTrigger, ZoneInfo, datetime, datetime, int], tuple[_Time, ...]] = {}
_CRON_TIMES_KEPT = 4096
_CRON_TIMES_LONGEST = 64


def _shared_cron_times(
    trigger: BaseTrigger, zone: ZoneInfo, start: datetime, end: datetime, limit: int
) -> tuple[_Time, ...]:
    """:func:`_times` of a cron line, worked out once per window for all the entries that
    share the line (and so its trigger, :func:`cron_trigger`): an extension of 50,000
    entries over 1,200 lines asked for 50,000 windows' fire times, 1.4 s, where 1,200
    differ. Short answers only are kept (at most 4,096): a window's worth of a daily
    line, not a fortnight of one a minute."""
    key = (trigger, zone, start, end, limit)
    times = _CRON_TIMES.get(key)
    if times is None:
        times = _times(trigger, zone, start, end, limit, every=False)
        if len(times) <= _CRON_TIMES_LONGEST:
            if len(_CRON_TIMES) >= _CRON_TIMES_KEPT:
                _CRON_TIMES.clear()
            _CRON_TIMES[key] = times
    return times


def _times(
    trigger: BaseTrigger, zone: ZoneInfo, start: datetime, end: datetime, limit: int, *, every: bool
) -> tuple[_Time, ...]:
    """The first ``limit`` times ``trigger`` fires in ``[start, end)``, each wall-clock
    time once (keyed by UTC for ``every``, which is elapsed time, else by wall time)."""
    found: list[_Time] = []
    keys: set[str] = set()
    for moment in _fire_times(trigger, start, end):
        # via UTC: a trigger may hand back a wall time that does not exist
        local = moment.astimezone(UTC).astimezone(zone)
        key = _key(every, local, moment)
        if key in keys:  # the second instant of a repeated wall-clock time
            continue
        keys.add(key)
        found.append((moment.astimezone(UTC), key, local))
        if len(found) >= limit:
            break
    return tuple(found)


def first_fire_time(trigger: BaseTrigger, start: datetime, end: datetime) -> datetime | None:
    """The first fire time of ``trigger`` in ``[start, end)`` (UTC), or None."""
    for moment in _fire_times(trigger, start, end):
        return moment.astimezone(UTC)
    return None


def _key(every: bool, local: datetime, moment: datetime) -> str:
    if every:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return local.replace(tzinfo=None).isoformat(timespec="minutes")


def _fire_times(trigger: BaseTrigger, start: datetime, end: datetime) -> Iterator[datetime]:
    """Fire times in ``[start, end)``, strictly increasing.

    APScheduler 3.11's cron trigger can return the second instant of a repeated
    hour again and again (agronholm/apscheduler#1036), so a time that does not
    move forward is stepped over, further each time, until one does.
    """
    last: datetime | None = None
    now = start
    while True:
        moment = trigger.get_next_fire_time(None, now)
        step = _STEP
        while moment is not None and last is not None and moment <= last:
            if step > _GIVE_UP:  # a one-off trigger keeps answering its only time
                return
            now, step = last + step, step * 60
            moment = trigger.get_next_fire_time(None, now)
        if moment is None or moment >= end:
            return
        if moment >= start:
            yield moment
        last, now = moment, moment + _STEP
