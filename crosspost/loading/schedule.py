"""``schedule.yaml``: its models, and reading it with every error placed on its line.

The file names a default time zone, the accounts (connector + settings, secrets
only as ``${ENV_VAR}``), account groups, inline content, and the posts: which
content goes to which accounts, and when (``at``, ``cron`` or ``every``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PlainSerializer,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from crosspost.errors import ConfigError, Problem
from crosspost.loading.durations import MAX_DURATION, UNIT_SECONDS, parse_duration
from crosspost.loading.inputfile import MAX_SCHEDULE_BYTES
from crosspost.loading.yamlfile import load_yaml, locate, validation_problems

__all__ = [
    "AccountSpec",
    "Approval",
    "CalendarSpec",
    "DEFAULT_GRACE",
    "DEFAULT_STEPS",
    "EventCancellation",
    "EventSpec",
    "EventStep",
    "MAX_DURATION",
    "MIN_INTERVAL",
    "YEARS",
    "Duration",
    "LocalDateTime",
    "MetricsSpec",
    "Missed",
    "NotifySpec",
    "PostSpec",
    "StepOffset",
    "ScheduleFile",
    "ThreadMode",
    "TimeZone",
    "parse_duration",
    "parse_step",
    "read_schedule",
]

_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"

#: The shortest ``every`` interval.
MIN_INTERVAL = timedelta(minutes=1)
#: Dates and times (``at``, ``start``, ``until``) must fall in these years.
YEARS = range(1970, 2101)


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
#: How ``at: next-slot`` may be spelt.
_NEXT_SLOT = frozenset({"next-slot", "next_slot", "next slot"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class AccountSpec(_Strict):
    """One ``accounts:`` entry: the connector and its raw settings (secrets unresolved)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    connector: str
    #: Leave at least this long between two posts of this account.
    min_interval: Duration | None = None
    #: Publish at most this many posts a day (UTC) on this account.
    max_per_day: int | None = Field(default=None, ge=1)

    @property
    def settings(self) -> dict[str, Any]:
        """Everything but the keys the core reads: what the connector's Settings get."""
        return dict(self.model_extra or {})


class PostSpec(_Strict):
    """One ``posts:`` entry: which content goes where, and when."""

    id: str = Field(pattern=_ID)
    content: str
    to: list[str] = Field(min_length=1)
    at: LocalDateTime | None = None
    cron: str | None = None
    every: Duration | None = None
    start: LocalDateTime | None = None
    timezone: TimeZone | None = None
    until: LocalDateTime | None = None
    missed: Missed = "publish"
    grace: Duration = DEFAULT_GRACE
    thread: ThreadMode = "auto"
    numbering: bool = False
    utm: bool = True
    enabled: bool = True
    #: ``required``: its content must be approved before it goes out (``none``: never).
    approval: Approval | None = None
    #: ``at: next-slot``: each account's next free queue slot, fixed when first planned.
    next_slot: bool = False

    @model_validator(mode="before")
    @classmethod
    def _at_next_slot(cls, data: Any) -> Any:
        at = data.get("at") if isinstance(data, Mapping) else None
        if isinstance(at, str) and at.strip().lower() in _NEXT_SLOT:
            return {**data, "at": None, "next_slot": True}
        return data

    @field_validator("to", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("every")
    @classmethod
    def _not_too_often(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value < MIN_INTERVAL:
            raise ValueError(f"every {value} is shorter than the minimum interval of 1m")
        return value

    @model_validator(mode="after")
    def _one_trigger(self) -> PostSpec:
        given = [name for name in ("at", "cron", "every") if getattr(self, name) is not None]
        given += ["at"] if self.next_slot else []
        if len(given) != 1:
            found = ", ".join(given) or "none"
            raise ValueError(f"needs exactly one of at, cron, every (found: {found})")
        if self.start is not None and self.every is None:
            raise ValueError("start goes with every")
        return self


class MetricsSpec(_Strict):
    """``metrics:``: when to come back for reactions after a post is published."""

    after: list[Duration] = Field(
        default_factory=lambda: [
            parse_duration(v) for v in ("15m", "1h", "6h", "24h", "3d", "7d", "30d")
        ]
    )
    accounts_every: Duration = timedelta(days=1)


NotifyKind = Literal["failed", "missed", "unknown", "credentials", "approval"]


def _every_kind() -> list[NotifyKind]:
    return ["failed", "missed", "unknown", "credentials", "approval"]


class NotifySpec(_Strict):
    """``notify:``: where to tell a person that something needs them."""

    to: list[str] = Field(min_length=1)
    on: list[NotifyKind] = Field(default_factory=_every_kind)

    @field_validator("to", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [v.strip() for v in value.split(",")] if isinstance(value, str) else value


# --------------------------------------------------------------------------- events

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


class EventStep(_Strict):
    """One announcement of an event: when, and optionally its own content or template."""

    at: Step
    content: str | None = None
    template: str | None = None


class EventCancellation(_Strict):
    """What a cancelled event posts: one announcement, at ``at`` or as soon as it can."""

    content: str | None = None
    template: str | None = None
    at: LocalDateTime | None = None

    @model_validator(mode="after")
    def _says_something(self) -> EventCancellation:
        if self.content is None and self.template is None:
            raise ValueError("needs content or template (what the cancellation says)")
        return self


class EventSpec(_Strict):
    """One ``events:`` entry: an event and the announcements that lead up to it."""

    id: str = Field(pattern=_ID)
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
        return PostSpec._one_or_many(value)

    @field_validator("steps", mode="before")
    @classmethod
    def _short_steps(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"at": v} if isinstance(v, str | int) else v for v in value]
        return value


class CalendarSpec(_Strict):
    """``calendar:``: where the ``.ics`` of every event is written, and its name."""

    path: str
    name: str = "Events"
    #: Right-hand side of each event's UID (``<event id>@<domain>``); use a domain you own.
    domain: str = "crosspost.invalid"

    @model_validator(mode="before")
    @classmethod
    def _path_only(cls, value: Any) -> Any:
        return {"path": value} if isinstance(value, str) else value


def _group_members(value: Any) -> Any:
    """A group is a list of accounts, or ``{members: [...], approval: required}``."""
    if not isinstance(value, Mapping):
        return value
    unknown = sorted(str(key) for key in value if key not in ("members", "approval"))
    if unknown:
        raise ValueError(f'unknown field "{unknown[0]}" (a group has members: and approval:)')
    if "members" not in value:
        raise ValueError("members: is missing (the accounts of the group)")
    if value.get("approval", "none") not in ("required", "none"):
        raise ValueError(f"approval {value.get('approval')!r} is not required or none")
    return value["members"]


GroupMembers = Annotated[list[str], BeforeValidator(_group_members)]


class ScheduleFile(_Strict):
    """The whole of ``schedule.yaml``."""

    timezone: TimeZone = ZoneInfo("UTC")
    content_dir: str | None = None
    templates_dir: str = "templates"
    state_dir: str = ".crosspost"
    accounts: dict[str, AccountSpec] = Field(default_factory=dict)
    groups: dict[str, GroupMembers] = Field(default_factory=dict)
    content: list[dict[str, Any]] = Field(default_factory=list)
    posts: list[PostSpec] = Field(default_factory=list)
    metrics: MetricsSpec = Field(default_factory=MetricsSpec)
    notify: NotifySpec | None = None
    events: list[EventSpec] = Field(default_factory=list)
    calendar: CalendarSpec | None = None
    #: Read as mappings here; :mod:`crosspost.loading.feeds_spec` validates each entry.
    feeds: list[dict[str, Any]] = Field(default_factory=list)
    #: Evergreen queues, validated with their positions by :mod:`crosspost.planning.queues`.
    queues: list[dict[str, Any]] = Field(default_factory=list)
    #: ``required``: every publication's content must be approved first.
    approval: Approval = "none"
    _group_approval: dict[str, Approval] = PrivateAttr(default_factory=dict)

    @property
    def group_approval(self) -> dict[str, Approval]:
        """``approval:`` of the groups written as ``{members: …, approval: …}``."""
        return self._group_approval

    @model_validator(mode="wrap")
    @classmethod
    def _group_options(
        cls, data: Any, handler: ModelWrapValidatorHandler[ScheduleFile]
    ) -> ScheduleFile:
        schedule = handler(data)
        groups = data.get("groups") if isinstance(data, Mapping) else None
        for name, value in groups.items() if isinstance(groups, Mapping) else ():
            if isinstance(value, Mapping) and value.get("approval") in ("required", "none"):
                schedule._group_approval[str(name)] = value["approval"]
        return schedule

    @field_validator("accounts", "groups")
    @classmethod
    def _names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if not re.match(_ID, str(name)):
                raise ValueError(f"{name!r} is not a valid name (letters, digits, _ . -)")
        return value


def read_schedule(path: Path) -> tuple[ScheduleFile, Any]:
    """Parse and validate ``schedule.yaml``; return the model and the YAML tree (for positions).

    Raises:
        ConfigError: with every problem found, each at its file:line:column.
    """
    root = load_yaml(path, MAX_SCHEDULE_BYTES)
    if root is None:  # an editor's empty save must never read as "no posts"
        raise ConfigError([Problem.at(path, 1, 1, "the schedule is empty")])
    if not isinstance(root, dict):
        raise ConfigError([Problem.at(path, 1, 1, "expected a mapping at the top level")])
    try:
        schedule = ScheduleFile.model_validate(dict(root))
    except ValidationError as exc:
        raise ConfigError(validation_problems(exc, root, path, model=ScheduleFile)) from None
    problems = _duplicate_post_ids(schedule, root, path)
    if problems:
        raise ConfigError(problems)
    return schedule, root


def _duplicate_post_ids(schedule: ScheduleFile, root: Any, path: Path) -> list[Problem]:
    seen: set[str] = set()
    problems = []
    for index, post in enumerate(schedule.posts):
        if post.id in seen:
            line, column = locate(root, ["posts", index, "id"])
            problems.append(
                Problem.at(
                    path,
                    line,
                    column,
                    f'posts.{index}.id: "{post.id}" is used twice (ids must be unique)',
                )
            )
        seen.add(post.id)
    return problems
