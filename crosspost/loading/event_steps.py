"""The steps of an event resolved to wall-clock times, and the entry ids they become.

Shared by the checks of ``events:`` (:mod:`crosspost.loading.event_checks`) and their
expansion into post entries (:mod:`crosspost.loading.events`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from crosspost.loading.events_spec import EventSpec, EventStep
from crosspost.loading.schedule import ScheduleFile

__all__ = [
    "CANCELLED_STEP",
    "ENTRY_PREFIX",
    "Loc",
    "ResolvedStep",
    "event_times",
    "event_zone",
    "resolved_steps",
    "step_entry",
    "wall_time",
]

#: Entries made from events start with this (a ``posts:`` id cannot contain ``:``).
ENTRY_PREFIX = "event:"
#: The step name of a cancellation announcement.
CANCELLED_STEP = "cancelled"

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class ResolvedStep:
    """One step of one event, resolved to a local time."""

    index: int
    loc: Loc
    spec: EventStep
    at: datetime  # naive wall-clock time in the event's zone


def step_entry(event_id: str, step: str) -> str:
    """The entry id (and content key) of a step: ``event:<event id>:<step>``."""
    return f"{ENTRY_PREFIX}{event_id}:{step}"


def event_times(event: EventSpec, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The event's start and end as naive wall-clock times in ``zone`` (no end: the start)."""
    start = wall_time(event.start, zone)
    return start, wall_time(event.end, zone) if event.end is not None else start


def wall_time(moment: datetime, zone: ZoneInfo) -> datetime:
    """``moment`` as a naive wall-clock time in ``zone`` (a naive one is taken as written)."""
    return moment.astimezone(zone).replace(tzinfo=None) if moment.tzinfo else moment


def event_zone(event: EventSpec, schedule: ScheduleFile) -> ZoneInfo:
    """The event's own zone, else the schedule's."""
    return event.timezone or schedule.timezone


def resolved_steps(event: EventSpec, index: int, schedule: ScheduleFile) -> Iterator[ResolvedStep]:
    """Each step of event ``index``, at its wall-clock time in the event's zone."""
    start, end = event_times(event, event_zone(event, schedule))
    for position, step in enumerate(event.steps):
        anchor = start if step.at.anchor == "start" else end
        yield ResolvedStep(
            position, ("events", index, "steps", position), step, anchor + step.at.delta
        )
