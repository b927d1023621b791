"""``feeds:`` in ``schedule.yaml``: subscriptions whose new entries are posted by a template.

::

    feeds:
      - id: blog                      # the feed's name; its posts are entry feed:blog
        url: https://example.org/feed.xml   # RSS, Atom or JSON Feed
        to: [everywhere]              # accounts or groups, as in posts:
        template: blog-entry          # templates/blog-entry.j2 (default: default)
        every: 15m                    # how often it is fetched (at least 1m)
        since: subscribed             # or a date and time: older entries are not posted
        max_per_fetch: 5              # at most this many posts per fetch, the newest
        missed: publish               # and grace: as for posts
        grace: 1h

The block is read as plain mappings by :mod:`crosspost.loading.schedule` and validated
here, each problem placed on its line, so that the schedule's own models stay
free of anything feeds need.
"""

# Annotations are not postponed (no ``from __future__ import annotations``): pydantic
# builds these models at import and would compile and evaluate each one from a string.
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Final, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from crosspost.errors import Problem
from crosspost.loading.posts_spec import PostSpec
from crosspost.loading.schedule import ScheduleFile
from crosspost.loading.spec_types import (
    DEFAULT_GRACE,
    ID_PATTERN,
    MIN_INTERVAL,
    Duration,
    LocalDateTime,
    Missed,
    ThreadMode,
    TimeZone,
    one_or_many,
)
from crosspost.loading.yamlfile import locate, validation_problems
from crosspost.status import FEED_PREFIX

__all__ = [
    "DEFAULT_EVERY",
    "FeedSpec",
    "SUBSCRIBED",
    "feed_entry_name",
    "read_feeds",
]

#: How often a feed is fetched when it does not say.
DEFAULT_EVERY = timedelta(minutes=15)
#: ``since: subscribed``: only entries published after the first fetch that worked.
SUBSCRIBED: Final = "subscribed"


def feed_entry_name(feed_id: str) -> str:
    """The entry of a feed's publications: ``feed:<id>`` (a ``posts:`` id has no ``:``)."""
    return f"{FEED_PREFIX}{feed_id}"


_MOMENT: TypeAdapter[datetime] = TypeAdapter(LocalDateTime)


def _since(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() == SUBSCRIBED:
        return SUBSCRIBED
    try:
        return _MOMENT.validate_python(value)
    except ValidationError as exc:
        reason = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise ValueError(f"{reason}; or subscribed (entries after the first fetch)") from None


Since = Annotated[Literal["subscribed"] | datetime, BeforeValidator(_since)]


class FeedSpec(BaseModel):
    """One ``feeds:`` entry: a feed, where its new entries go, and how often to look."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    id: str = Field(pattern=ID_PATTERN)
    url: str
    to: list[str] = Field(min_length=1)
    template: str = "default"
    every: Duration = DEFAULT_EVERY
    since: Since = SUBSCRIBED
    max_per_fetch: int = Field(default=5, ge=1, le=100)
    timezone: TimeZone | None = None
    missed: Missed = "publish"
    grace: Duration = DEFAULT_GRACE
    thread: ThreadMode = "auto"
    numbering: bool = False
    utm: bool = True
    enabled: bool = True

    @field_validator("to", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return one_or_many(value)

    @field_validator("url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http:// or https:// address of a feed")
        return value.strip()

    @field_validator("every")
    @classmethod
    def _not_too_often(cls, value: timedelta) -> timedelta:
        if value < MIN_INTERVAL:
            raise ValueError(f"every {value} is shorter than the minimum interval of 1m")
        return value

    @property
    def entry(self) -> str:
        """``feed:<id>``: the entry of its publications."""
        return feed_entry_name(self.id)

    def as_post(self) -> PostSpec:
        """The feed as a post entry: what rendering and the missed policy read."""
        spec = PostSpec.model_validate(
            {
                "id": self.id,  # a valid id for validation; the real one has ``:`` in it
                "content": self.entry,
                "to": self.to,
                "every": self.every,
                "timezone": self.timezone,
                "missed": self.missed,
                "grace": self.grace,
                "thread": self.thread,
                "numbering": self.numbering,
                "utm": self.utm,
            }
        )
        return spec.model_copy(update={"id": self.entry})


def read_feeds(
    schedule: ScheduleFile,
    root: Any,
    path: Path,
    *,
    unknown_account: Callable[[str], str | None] = lambda _name: None,
    template_problem: Callable[[str], str | None] = lambda _name: None,
) -> tuple[list[FeedSpec], list[Problem]]:
    """The ``feeds:`` entries validated, and every problem at its file:line.

    Args:
        unknown_account: why a ``to:`` name is neither an account nor a group, or None.
        template_problem: why a name is not a template, or None (the renderer's check).
    """
    feeds: list[FeedSpec] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, raw in enumerate(schedule.feeds):
        try:
            feed = FeedSpec.model_validate(raw)
        except ValidationError as exc:
            problems += validation_problems(exc, root, path, ("feeds", index), model=FeedSpec)
            continue
        twice = f'"{feed.id}" is used twice (feed ids must be unique)'
        where: list[tuple[tuple[str | int, ...], str | None]] = [
            (("id",), twice if feed.id in seen else None),
            (("template",), template_problem(feed.template)),
        ]
        where += [(("to", i), unknown_account(name)) for i, name in enumerate(feed.to)]
        for loc, reason in where:
            if reason is not None:
                line, column = locate(root, ["feeds", index, *loc])
                label = ".".join(str(part) for part in ("feeds", index, *loc))
                problems.append(Problem.at(path, line, column, f"{label}: {reason}"))
        seen.add(feed.id)
        feeds.append(feed)
    return feeds, problems
