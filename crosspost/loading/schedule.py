"""``schedule.yaml``: its top-level model, and reading it with every error placed on its line.

The file names a default time zone, the accounts (connector + settings, secrets
only as ``${ENV_VAR}``), account groups, inline content, and the posts: which
content goes to which accounts, and when (``at``, ``cron`` or ``every``).

Each section's models live beside this one (``posts:`` in
:mod:`~crosspost.loading.posts_spec`, ``events:`` and ``calendar:`` in
:mod:`~crosspost.loading.events_spec`, the field types they share in
:mod:`~crosspost.loading.spec_types`); the small sections (accounts, groups,
metrics, notify) are here.
"""

# Annotations are not postponed (no ``from __future__ import annotations``): pydantic
# builds these models at import and would compile and evaluate each one from a string.
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from crosspost.errors import ConfigError, Problem
from crosspost.loading.durations import parse_duration
from crosspost.loading.events_spec import CalendarSpec, EventSpec
from crosspost.loading.inputfile import MAX_SCHEDULE_BYTES
from crosspost.loading.posts_spec import PostSpec
from crosspost.loading.spec_types import (
    ID_PATTERN,
    Approval,
    Duration,
    StrictModel,
    TimeZone,
    one_or_many,
)
from crosspost.loading.yamlfile import load_yaml, locate, plain, validation_problems

__all__ = [
    "AccountSpec",
    "MetricsSpec",
    "NotifySpec",
    "ScheduleFile",
    "duplicate_post_ids",
    "read_schedule",
    "read_schedule_leniently",
]


#: Steps of ``metrics.after`` or of an account's ``metrics_after``: a post is collected once
#: per step, and each round walks them for every post.
MAX_METRIC_STEPS = 100


class AccountSpec(StrictModel):
    """One ``accounts:`` entry: the connector and its raw settings (secrets unresolved)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    connector: str
    #: Leave at least this long between two posts of this account.
    min_interval: Duration | None = None
    #: Publish at most this many posts a day (UTC) on this account.
    max_per_day: int | None = Field(default=None, ge=1)
    #: Collect this account's reactions after these steps instead of ``metrics.after``:
    #: fewer steps, fewer calls (an API billed per read); ``[]``: none.
    metrics_after: list[Duration] | None = Field(default=None, max_length=MAX_METRIC_STEPS)

    @property
    def settings(self) -> dict[str, Any]:
        """Everything but the keys the core reads: what the connector's Settings get."""
        return dict(self.model_extra or {})


class MetricsSpec(StrictModel):
    """``metrics:``: when to come back for reactions after a post is published."""

    after: list[Duration] = Field(
        default_factory=lambda: [
            parse_duration(v) for v in ("15m", "1h", "6h", "24h", "3d", "7d", "30d")
        ],
        max_length=MAX_METRIC_STEPS,
    )
    accounts_every: Duration = timedelta(days=1)


NotifyKind = Literal["failed", "missed", "unknown", "credentials", "approval"]


def _every_kind() -> list[NotifyKind]:
    return ["failed", "missed", "unknown", "credentials", "approval"]


class NotifySpec(StrictModel):
    """``notify:``: where to tell a person that something needs them."""

    to: list[str] = Field(min_length=1)
    on: list[NotifyKind] = Field(default_factory=_every_kind)

    @field_validator("to", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return one_or_many(value)


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


class ScheduleFile(StrictModel):
    """The whole of ``schedule.yaml``."""

    timezone: TimeZone = ZoneInfo("UTC")
    content_dir: str | None = None
    templates_dir: str = "templates"
    state_dir: str = ".crosspost"
    accounts: dict[str, AccountSpec] = {}
    groups: dict[str, GroupMembers] = {}
    content: list[dict[str, Any]] = []
    posts: list[PostSpec] = []
    metrics: MetricsSpec = Field(default_factory=MetricsSpec)
    notify: NotifySpec | None = None
    events: list[EventSpec] = []
    calendar: CalendarSpec | None = None
    #: Read as mappings here; :mod:`crosspost.loading.feeds_spec` validates each entry.
    feeds: list[dict[str, Any]] = []
    #: Evergreen queues, validated with their positions by :mod:`crosspost.planning.queues`.
    queues: list[dict[str, Any]] = []
    #: ``required``: every publication's content must be approved first.
    approval: Approval = "none"
    _group_approval: dict[str, Approval] = PrivateAttr(default_factory=dict)
    #: Where each of ``posts`` and ``events`` stands in the file, for a section whose
    #: entries refused by validation were left out (:func:`read_schedule_leniently`).
    _indexes: dict[str, list[int]] = PrivateAttr(default_factory=dict)

    def indexed_posts(self) -> list[tuple[int, PostSpec]]:
        """Each entry with its index under ``posts:`` in the file (for positions)."""
        indexes = self._indexes.get("posts") or range(len(self.posts))
        return list(zip(indexes, self.posts, strict=True))

    def indexed_events(self) -> list[tuple[int, EventSpec]]:
        """Each event with its index under ``events:`` in the file (for positions)."""
        indexes = self._indexes.get("events") or range(len(self.events))
        return list(zip(indexes, self.events, strict=True))

    @property
    def group_approval(self) -> dict[str, Approval]:
        """``approval:`` of the groups written as ``{members: …, approval: …}``."""
        return self._group_approval

    @model_validator(mode="wrap")
    @classmethod
    def _group_options(
        cls, data: Any, handler: ModelWrapValidatorHandler["ScheduleFile"]
    ) -> "ScheduleFile":
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
            if not re.match(ID_PATTERN, str(name)):
                raise ValueError(f"{name!r} is not a valid name (letters, digits, _ . -)")
        return value


def read_schedule(path: Path) -> tuple[ScheduleFile, Any]:
    """Parse and validate ``schedule.yaml``; return the model and the YAML tree (for positions).

    Raises:
        ConfigError: with every problem found, each at its file:line:column.
    """
    schedule, root, problems = read_schedule_leniently(path)
    if problems:
        raise ConfigError(problems)
    return schedule, root


def read_schedule_leniently(path: Path) -> tuple[ScheduleFile, Any, list[Problem]]:
    """:func:`read_schedule`, but ``posts:`` and ``events:`` entries that fail validation
    are left out of the model and their problems returned: the other entries can still
    be checked, so one ``check`` tells every problem instead of the rest only once these
    are fixed.

    Raises:
        ConfigError: the file cannot be read, or something besides entries is invalid.
    """
    root = load_yaml(path, MAX_SCHEDULE_BYTES)
    if root is None:  # an editor's empty save must never read as "no posts"
        raise ConfigError([Problem.at(path, 1, 1, "the schedule is empty")])
    if not isinstance(root, dict):
        raise ConfigError([Problem.at(path, 1, 1, "expected a mapping at the top level")])
    try:
        return ScheduleFile.model_validate(plain(root)), root, []
    except ValidationError as exc:
        problems = validation_problems(exc, root, path, model=ScheduleFile)
        refused = _refused_entries(exc)
    if refused is None:
        raise ConfigError(problems)
    kept = {
        section: [i for i in range(len(root[section])) if i not in indexes]
        for section, indexes in refused.items()
    }
    rest = {section: [root[section][i] for i in kept[section]] for section in kept}
    try:
        schedule = ScheduleFile.model_validate(plain({**root, **rest}))
    except ValidationError:
        raise ConfigError(problems) from None
    schedule._indexes = kept
    return schedule, root, problems


#: The lists whose entries a refused one can be left out of while the rest is checked.
_LENIENT = ("posts", "events")


def _refused_entries(exc: ValidationError) -> dict[str, set[int]] | None:
    """The indexes of the ``posts:`` and ``events:`` entries ``exc`` refused, by section;
    None if it refused anything else."""
    refused: dict[str, set[int]] = {}
    for error in exc.errors():
        loc = error["loc"]
        if len(loc) < 2 or loc[0] not in _LENIENT or not isinstance(loc[1], int):
            return None
        refused.setdefault(str(loc[0]), set()).add(loc[1])
    return refused


def duplicate_post_ids(schedule: ScheduleFile, root: Any, path: Path) -> list[Problem]:
    """An entry id used again; the project is not built then, but every other check runs."""
    seen: set[str] = set()
    problems = []
    for index, post in schedule.indexed_posts():
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
