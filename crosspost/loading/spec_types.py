"""The field types the models of ``schedule.yaml`` share: durations, zones, local times, policies.

Kept apart from :mod:`crosspost.loading.schedule` so that each section's models
(:mod:`~crosspost.loading.posts_spec`, :mod:`~crosspost.loading.events_spec`, content,
feeds and queues) read the same spelling of a duration, a zone or a date the same way.
"""

# Annotations are not postponed (no ``from __future__ import annotations``): pydantic
# builds these models at import and would compile and evaluate each one from a string.
import difflib
from datetime import date, datetime, timedelta
from functools import cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer

from crosspost.loading.durations import parse_duration

__all__ = [
    "DEFAULT_GRACE",
    "ID_PATTERN",
    "MIN_INTERVAL",
    "YEARS",
    "Approval",
    "Duration",
    "LocalDateTime",
    "Missed",
    "StrictModel",
    "ThreadMode",
    "TimeZone",
    "one_or_many",
]

#: What an id or a name may be spelt with (``posts:`` ids, accounts, groups, events).
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"

#: The shortest ``every`` interval.
MIN_INTERVAL = timedelta(minutes=1)
#: Dates and times (``at``, ``start``, ``until``) must fall in these years.
YEARS = range(1970, 2101)


def one_or_many(value: Any) -> Any:
    """A comma-separated string (``to: mastodon, bluesky``) as its non-empty parts; a list
    (or anything else, for validation to judge) as it is."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _format_duration(value: timedelta) -> str:
    return f"{int(value.total_seconds())}s"


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def _zone(value: Any) -> ZoneInfo:
    if isinstance(value, ZoneInfo):
        return value
    name = str(value)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(name, sorted(_zone_names()), n=1)
        hint = f'; did you mean "{close[0]}"?' if close else ""
        raise ValueError(f'unknown time zone "{name}" (expected an IANA name){hint}') from None


def _local_datetime(value: Any) -> datetime:
    """A wall-clock time as written (a zone in the text is kept), between the :data:`YEARS`."""
    moment = _parse_datetime(value)
    if moment.year not in YEARS:
        raise ValueError(
            f"{value!s} is outside the years {YEARS.start}-{YEARS.stop - 1} crosspost plans in"
        )
    return moment


def _parse_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    try:
        return datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(
            f"{value!r} is not a date and time (expected e.g. 2026-12-01 09:30)"
        ) from None


Duration = Annotated[timedelta, BeforeValidator(parse_duration), PlainSerializer(_format_duration)]
TimeZone = Annotated[ZoneInfo, BeforeValidator(_zone), PlainSerializer(str)]
LocalDateTime = Annotated[datetime, BeforeValidator(_local_datetime)]
#: What happens to a post whose time passed while nothing ran (``missed:``).
Missed = Literal["publish", "skip"]
#: ``thread:``: cut a long text into a thread, or refuse it.
ThreadMode = Literal["auto", "never"]
#: ``grace:``: how late a missed post may still go out.
DEFAULT_GRACE = timedelta(hours=1)
#: ``approval:`` on the schedule, a group or an entry: the most specific one given decides.
Approval = Literal["required", "none"]


class StrictModel(BaseModel):
    """The base of the schedule's models: unknown keys are errors, and a model never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)
