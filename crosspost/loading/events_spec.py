"""``events:`` and ``calendar:`` of ``schedule.yaml``: events, their steps, their cancellation.

A step is an offset from the event's start or end (``-7d``, ``start``, ``+1d``,
``start+2h``); :mod:`crosspost.loading.events` turns each step into a post entry.
"""

# Annotations are not postponed (no ``from __future__ import annotations``): pydantic
# builds these models at import and would compile and evaluate each one from a string.
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PlainSerializer, field_validator, model_validator

from crosspost.loading.durations import UNIT_SECONDS, parse_duration
from crosspost.loading.spec_types import (
    DEFAULT_GRACE,
    ID_PATTERN,
    Approval,
    Duration,
    LocalDateTime,
    Missed,
    StrictModel,
    TimeZone,
    one_or_many,
)

__all__ = [
    "DEFAULT_STEPS",
    "CalendarSpec",
    "EventCancellation",
    "EventSpec",
    "EventStep",
    "Step",
    "StepOffset",
    "parse_step",
]

_STEP = re.compile(r"^(start|end)?\s*(?:([+-])\s*(.+))?$", re.IGNORECASE)


@dataclass(frozen=True)
class StepOffset:
    """When an event's announcement goes out: ``delta`` before (< 0) or after ``anchor``."""

    anchor: Literal["start", "end"]
    delta: timedelta

    @property
    def name(self) -> str:
        """The canonical spelling (``-7d``, ``start``, ``+1d``, ``start+2h``), used in ids.

        ``-1w`` and ``-168h`` are both ``-7d``, so rewriting an offset keeps its step.
        """
        if not self.delta:
            return self.anchor
        sign = "-" if self.delta < timedelta(0) else "+"
        shorthand = (self.anchor, sign) in (("start", "-"), ("end", "+"))
        return ("" if shorthand else self.anchor) + sign + _canonical(abs(self.delta))


def _canonical(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    parts = []
    for unit in ("d", "h", "m", "s"):
        count, seconds = divmod(seconds, UNIT_SECONDS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def parse_step(value: Any) -> StepOffset:
    """``-7d`` (before the start), ``start``, ``end``, ``+1d`` (after the end), ``start+2h``…

    Raises:
        ValueError: not one of these forms, or a duration of zero.
    """
    if isinstance(value, StepOffset):
        return value
    text = str(value).strip()
    match = _STEP.match(text)
    if not text or match is None or (match.group(1) is None and match.group(2) is None):
        raise ValueError(
            f"{value!r} is not a step (expected start, end, -7d before the start, "
            "+1d after the end, start+2h or end-30m)"
        )
    anchor_text, sign, amount = match.groups()
    anchor = (anchor_text or ("start" if sign == "-" else "end")).lower()
    delta = parse_duration(amount) if sign else timedelta(0)
    if int(delta.total_seconds()) != delta.total_seconds():
        raise ValueError(f"{value!r}: steps are whole seconds")
    return StepOffset("start" if anchor == "start" else "end", -delta if sign == "-" else delta)


Step = Annotated[StepOffset, BeforeValidator(parse_step), PlainSerializer(lambda s: s.name)]

#: The announcements of an event that names no ``steps``: a week, a day and an hour before.
DEFAULT_STEPS = ("-7d", "-1d", "-1h")


class EventStep(StrictModel):
    """One announcement of an event: when, and optionally its own content or template."""

    at: Step
    content: str | None = None
    template: str | None = None


class EventCancellation(StrictModel):
    """What a cancelled event posts: one announcement, at ``at`` or as soon as it can."""

    content: str | None = None
    template: str | None = None
    at: LocalDateTime | None = None

    @model_validator(mode="after")
    def _says_something(self) -> "EventCancellation":
        if self.content is None and self.template is None:
            raise ValueError("needs content or template (what the cancellation says)")
        return self


class EventSpec(StrictModel):
    """One ``events:`` entry: an event and the announcements that lead up to it."""

    id: str = Field(pattern=ID_PATTERN)
    title: str = Field(min_length=1)
    start: LocalDateTime
    end: LocalDateTime | None = None
    timezone: TimeZone | None = None
    place: str | None = None
    url: str | None = None
    content: str | None = None
    template: str | None = None
    to: list[str] = Field(min_length=1)
    steps: list[EventStep] = Field(
        default_factory=lambda: [EventStep(at=parse_step(s)) for s in DEFAULT_STEPS]
    )
    missed: Missed = "publish"
    grace: Duration = DEFAULT_GRACE
    enabled: bool = True
    cancelled: bool = False
    cancellation: EventCancellation | None = None
    approval: Approval | None = None

    @field_validator("to", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return one_or_many(value)

    @field_validator("steps", mode="before")
    @classmethod
    def _short_steps(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"at": v} if isinstance(v, str | int) else v for v in value]
        return value


class CalendarSpec(StrictModel):
    """``calendar:``: where the ``.ics`` of every event is written, and its name."""

    path: str
    name: str = "Events"
    #: Right-hand side of each event's UID (``<event id>@<domain>``); use a domain you own.
    domain: str = "crosspost.invalid"

    @model_validator(mode="before")
    @classmethod
    def _path_only(cls, value: Any) -> Any:
        return {"path": value} if isinstance(value, str) else value
