"""The events as one iCalendar file (RFC 5545), for calendar apps to subscribe to.

One ``VEVENT`` per event with a UID made from its id (``<id>@<calendar domain>``),
so a moved event updates the entry people already have; a cancelled one stays with
``STATUS:CANCELLED``. Times carry ``TZID`` with the event's IANA zone, and each zone
used gets a ``VTIMEZONE`` built from ``zoneinfo``'s transitions over the years of
the events (RFC 5545 §3.6.5 requires one per ``TZID``).

Written by ``crosspost calendar`` and by the daemon whenever it loads the project;
a file that differs only in its ``DTSTAMP`` lines is left as it is.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from crosspost.loading.content_item import ContentItem
from crosspost.loading.event_steps import event_times
from crosspost.loading.events_spec import CalendarSpec, EventSpec
from crosspost.loading.project import Project
from crosspost.loading.schedule import ScheduleFile

__all__ = ["PRODID", "calendar_path", "calendar_text", "refresh_calendar", "write_calendar"]

PRODID = "-//crosspost//events//EN"
_log = logging.getLogger(__name__)
_LINE_OCTETS = 75
_STAMP = "DTSTAMP:"


def calendar_path(schedule: ScheduleFile, base_dir: Path) -> Path | None:
    """Where ``calendar:`` says the file goes (relative to ``schedule.yaml``), if anywhere."""
    if schedule.calendar is None:
        return None
    path = Path(schedule.calendar.path)
    return path if path.is_absolute() else base_dir / path


def calendar_text(schedule: ScheduleFile, content: dict[str, ContentItem], now: datetime) -> str:
    """The whole calendar: every event, cancelled ones included, CRLF line ends."""
    spec = schedule.calendar or CalendarSpec(path="events.ics")
    stamp = _utc(now)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_escape(spec.name)}",
    ]
    zones: dict[str, list[EventSpec]] = {}
    for event in schedule.events:
        zones.setdefault(str(event.timezone or schedule.timezone), []).append(event)
    for name, events in sorted(zones.items()):
        lines += _vtimezone(ZoneInfo(name), events)
    for event in schedule.events:
        zone = event.timezone or schedule.timezone
        lines += _vevent(event, zone, spec.domain, stamp, content.get(event.content or ""))
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def write_calendar(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` atomically unless only its ``DTSTAMP`` would change.

    Returns:
        Whether the file was written.
    """
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            old = handle.read()
    except (FileNotFoundError, UnicodeDecodeError):
        old = None
    if old is not None and _without_stamps(old) == _without_stamps(text):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".crosspost-", suffix=".ics")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def refresh_calendar(project: Project, now: datetime) -> Path | None:
    """Rewrite the project's ``calendar:`` file if its events changed (the daemon's job).

    Returns:
        The path, when the file was written.
    """
    path = calendar_path(project.schedule, project.base_dir)
    if path is None:
        return None
    try:
        text = calendar_text(project.schedule, project.content, now)
        if not write_calendar(path, text):
            return None
    except OSError as exc:  # a calendar that cannot be written must not stop publishing
        _log.error("%s not written: %s", path, exc)
        return None
    _log.info("%s written", path)
    return path


def _without_stamps(text: str) -> list[str]:
    return [line for line in text.split("\r\n") if not line.startswith(_STAMP)]


# --------------------------------------------------------------------------- VEVENT


def _vevent(
    event: EventSpec, zone: ZoneInfo, domain: str, stamp: str, item: ContentItem | None
) -> list[str]:
    start, end = event_times(event, zone)
    lines = [
        "BEGIN:VEVENT",
        f"UID:{event.id}@{domain}",
        f"{_STAMP}{stamp}",
        f"DTSTART;TZID={zone}:{_local(start)}",
    ]
    if event.end is not None:
        lines.append(f"DTEND;TZID={zone}:{_local(end)}")
    lines.append(f"SUMMARY:{_escape(event.title)}")
    description = item.body if item is not None else ""
    if description:
        lines.append(f"DESCRIPTION:{_escape(description)}")
    if event.place:
        lines.append(f"LOCATION:{_escape(event.place)}")
    if event.url:
        lines.append(f"URL:{event.url}")
    lines.append(f"STATUS:{'CANCELLED' if event.cancelled else 'CONFIRMED'}")
    lines.append("END:VEVENT")
    return lines


def _local(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S")


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _escape(text: str) -> str:
    """TEXT value escaping (RFC 5545 §3.3.11)."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _fold(line: str) -> str:
    """Lines longer than 75 octets go on in lines that start with a space (§3.1)."""
    parts: list[str] = []
    current, size, limit = "", 0, _LINE_OCTETS
    for char in line:
        octets = len(char.encode("utf-8"))
        if size + octets > limit:
            parts.append(current)
            current, size, limit = " ", 1, _LINE_OCTETS
        current += char
        size += octets
    parts.append(current)
    return "\r\n".join(parts)


# --------------------------------------------------------------------------- VTIMEZONE


def _vtimezone(zone: ZoneInfo, events: list[EventSpec]) -> list[str]:
    """The zone's offsets over the years of ``events``: where it starts, then each change."""
    years = [t.year for e in events for t in event_times(e, zone)]
    begin = datetime(min(years), 1, 1, tzinfo=zone).astimezone(UTC)
    finish = datetime(max(years) + 1, 1, 1, tzinfo=zone).astimezone(UTC)
    lines = ["BEGIN:VTIMEZONE", f"TZID:{zone}"]
    offset = _offset(zone, begin)
    lines += _observance(zone, begin, offset, offset)
    for moment, before, after in _transitions(zone, begin, finish):
        lines += _observance(zone, moment, before, after)
    lines.append("END:VTIMEZONE")
    return lines


def _observance(zone: ZoneInfo, moment: datetime, before: timedelta, after: timedelta) -> list[str]:
    local = moment.astimezone(zone)
    kind = "DAYLIGHT" if local.dst() else "STANDARD"
    return [
        f"BEGIN:{kind}",
        f"DTSTART:{_local((moment + before).replace(tzinfo=None))}",
        f"TZOFFSETFROM:{_offset_text(before)}",
        f"TZOFFSETTO:{_offset_text(after)}",
        f"TZNAME:{_escape(local.tzname() or str(zone))}",
        f"END:{kind}",
    ]


def _offset(zone: ZoneInfo, moment: datetime) -> timedelta:
    return moment.astimezone(zone).utcoffset() or timedelta(0)


def _transitions(
    zone: ZoneInfo, begin: datetime, finish: datetime
) -> Iterator[tuple[datetime, timedelta, timedelta]]:
    """``(UTC instant, offset before, offset after)`` of each change, found a day at a time."""
    moment, offset = begin, _offset(zone, begin)
    while moment < finish:
        later = moment + timedelta(days=1)
        changed = _offset(zone, later)
        if changed != offset:
            low, high = int(moment.timestamp()), int(later.timestamp())
            while high - low > 1:  # whole seconds: the last second before, the first after
                middle = (low + high) // 2
                if _offset(zone, datetime.fromtimestamp(middle, UTC)) == changed:
                    high = middle
                else:
                    low = middle
            yield datetime.fromtimestamp(high, UTC), offset, changed
            offset = changed
        moment = later


def _offset_text(offset: timedelta) -> str:
    seconds = int(offset.total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{secs:02d}" if secs else "")
