"""What one ``queues:`` entry may say: its pool, its slots and how it picks, validated.

The models only check each field on its own (a day's name, a time of day, a pool
given at all); what needs the rest of the schedule (accounts, content, whether a slot
ever fires) is checked by :func:`crosspost.planning.queues.queue_problems`.
"""

# Annotations are not postponed (no ``from __future__ import annotations``): pydantic
# builds these models at import and would compile and evaluate each one from a string.
import difflib
import re
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from crosspost.loading.spec_types import (
    DEFAULT_GRACE,
    ID_PATTERN,
    Approval,
    Duration,
    Missed,
    StrictModel,
    ThreadMode,
    TimeZone,
    one_or_many,
)

__all__ = ["Order", "QueueSpec", "SlotSpec"]

Order = Literal["round-robin", "least-recently-posted", "random"]

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = {name: name for name in _DAYS} | {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class SlotSpec(StrictModel):
    """When a queue posts: a cron line, or days × times (``days`` defaults to every day)."""

    cron: str | None = None
    days: list[str] | None = None
    times: list[str] = []
    #: Only these of the queue's accounts or groups (default: all of them).
    to: list[str] | None = None

    @field_validator("days", "times", "to", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return one_or_many(value)

    @field_validator("days")
    @classmethod
    def _day_names(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        days = []
        for day in value:
            name = _DAY_NAMES.get(str(day).strip().lower())
            if name is None:
                close = difflib.get_close_matches(str(day).lower(), list(_DAY_NAMES), n=1)
                hint = f'; did you mean "{close[0]}"?' if close else ""
                raise ValueError(f'"{day}" is not a day (expected mon … sun){hint}')
            days.append(name)
        return days

    @field_validator("times")
    @classmethod
    def _clock_times(cls, value: list[str]) -> list[str]:
        for time in value:
            if not _TIME.match(str(time).strip()):
                raise ValueError(f'"{time}" is not a time of day (expected HH:MM, e.g. 09:30)')
        return [str(time).strip() for time in value]

    @model_validator(mode="after")
    def _one_kind(self) -> "SlotSpec":
        if (self.cron is None) == (not self.times):
            raise ValueError("a slot needs either cron, or times (with days)")
        if self.cron is not None and self.days is not None:
            raise ValueError("days goes with times, not with cron")
        return self

    def cron_lines(self) -> list[str]:
        """The slot as standard cron lines: one per minute of the hour its times use."""
        if self.cron is not None:
            return [self.cron.strip()]
        days = ",".join(d for d in _DAYS if d in (self.days or _DAYS))
        by_minute: dict[int, set[int]] = {}
        for time in self.times:
            hour, minute = (int(part) for part in time.split(":"))
            by_minute.setdefault(minute, set()).add(hour)
        weekday = "*" if days == ",".join(_DAYS) else days
        return [
            f"{minute} {','.join(str(h) for h in sorted(hours))} * * {weekday}"
            for minute, hours in sorted(by_minute.items())
        ]


class QueueSpec(StrictModel):
    """One ``queues:`` entry: a pool of content, the slots it fills and how it picks."""

    id: str = Field(pattern=ID_PATTERN)
    to: list[str] = Field(min_length=1)
    content: list[str] = []
    tags: list[str] = []
    folder: str | None = None
    slots: list[SlotSpec] = Field(min_length=1)
    #: An item is not posted again on the same account within this long.
    cooldown: Duration | None = None
    #: At most this many times per account.
    max_repeats: int | None = Field(default=None, ge=1)
    order: Order = "round-robin"
    #: ``order: random`` only: the same seed makes the same choices.
    seed: int | None = None
    #: Only fill a slot when the account has no other post within this long of it.
    fill_gaps: Duration | None = None
    timezone: TimeZone | None = None
    missed: Missed = "publish"
    grace: Duration = DEFAULT_GRACE
    approval: Approval | None = None
    utm: bool = True
    thread: ThreadMode = "auto"
    enabled: bool = True

    @field_validator("to", "content", "tags", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return one_or_many(value)

    @field_validator("seed")
    @classmethod
    def _seed_for_random(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and info.data.get("order", "round-robin") != "random":
            raise ValueError("seed goes with order: random")
        return value

    @model_validator(mode="after")
    def _has_a_pool(self) -> "QueueSpec":
        if not (self.content or self.tags or self.folder):
            raise ValueError("needs content (ids), tags or a folder: what the queue posts")
        return self
