"""``schedule.yaml``: its models, and reading it with every error placed on its line.

The file names a default time zone, the accounts (connector + settings, secrets
only as ``${ENV_VAR}``), account groups, inline content, and the posts: which
content goes to which accounts, and when (``at``, ``cron`` or ``every``).
"""

from __future__ import annotations

import difflib
import math
import re
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
    PlainSerializer,
    ValidationError,
    field_validator,
    model_validator,
)

from crosspost.errors import ConfigError, Problem
from crosspost.yamlfile import load_yaml, locate, validation_problems

__all__ = [
    "AccountSpec",
    "MAX_DURATION",
    "MIN_INTERVAL",
    "YEARS",
    "Duration",
    "LocalDateTime",
    "MetricsSpec",
    "NotifySpec",
    "PostSpec",
    "ScheduleFile",
    "TimeZone",
    "parse_duration",
    "read_schedule",
]

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(w|d|h|m|s)", re.IGNORECASE)
_UNIT_SECONDS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"

#: The longest duration anywhere (``every``, ``grace``, ``--until``…): 100 years.
MAX_DURATION = timedelta(days=36_500)
#: The shortest ``every`` interval.
MIN_INTERVAL = timedelta(minutes=1)
#: Dates and times (``at``, ``start``, ``until``) must fall in these years.
YEARS = range(1970, 2101)


def parse_duration(value: Any) -> timedelta:
    """``"90s"``, ``"15m"``, ``"1h30m"``, ``"2d"``, ``"1w"`` (or seconds as a number).

    Raises:
        ValueError: not a duration, not longer than zero, or longer than :data:`MAX_DURATION`.
    """
    if isinstance(value, timedelta):
        return _bounded(value.total_seconds(), value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _bounded(float(value), value)
    text = str(value).strip().replace(" ", "")
    if not text or _DURATION_PART.sub("", text):
        raise ValueError(f"{value!r} is not a duration (expected e.g. 90s, 15m, 1h30m, 2d, 1w)")
    seconds = sum(
        float(number) * _UNIT_SECONDS[unit.lower()] for number, unit in _DURATION_PART.findall(text)
    )
    return _bounded(seconds, value)


def _bounded(seconds: float, value: Any) -> timedelta:
    # checked as a float first: timedelta() itself overflows long before .inf
    if not math.isfinite(seconds) or seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"{value!r} is longer than the limit of {MAX_DURATION.days}d (100 years)")
    if seconds <= 0:
        raise ValueError(f"{value!r} must be longer than zero")
    return timedelta(seconds=seconds)


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
    missed: Literal["publish", "skip"] = "publish"
    grace: Duration = timedelta(hours=1)
    thread: Literal["auto", "never"] = "auto"
    numbering: bool = False
    utm: bool = True
    enabled: bool = True

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


NotifyKind = Literal["failed", "missed", "unknown", "credentials"]


def _every_kind() -> list[NotifyKind]:
    return ["failed", "missed", "unknown", "credentials"]


class NotifySpec(_Strict):
    """``notify:``: where to tell a person that something needs them."""

    to: list[str] = Field(min_length=1)
    on: list[NotifyKind] = Field(default_factory=_every_kind)

    @field_validator("to", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [v.strip() for v in value.split(",")] if isinstance(value, str) else value


class ScheduleFile(_Strict):
    """The whole of ``schedule.yaml``."""

    timezone: TimeZone = ZoneInfo("UTC")
    content_dir: str | None = None
    templates_dir: str = "templates"
    state_dir: str = ".crosspost"
    accounts: dict[str, AccountSpec] = Field(default_factory=dict)
    groups: dict[str, list[str]] = Field(default_factory=dict)
    content: list[dict[str, Any]] = Field(default_factory=list)
    posts: list[PostSpec] = Field(default_factory=list)
    metrics: MetricsSpec = Field(default_factory=MetricsSpec)
    notify: NotifySpec | None = None

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
    root = load_yaml(path)
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
