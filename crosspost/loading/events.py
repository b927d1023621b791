"""Event sequences: each ``events:`` entry becomes ordinary post entries, one per step.

An event (title, start, end, zone, place, URL, content) is announced at declared
offsets (``steps: [-7d, -1d, -1h, start, +1d]``)::

    -7d, -1d, -1h      before the start        start, end    at the start, at the end
    +1d                after the end           start+2h      during it (end-30m likewise)

Each step is a one-off post entry with the id ``event:<event id>:<step>`` (the
step's canonical spelling: ``-1w`` is ``-7d``) and the same id as its content key,
so the plan, ``check``, the sync and the daemon treat it like any other entry:
one row per step and account, its ``missed`` policy, local time. Offsets are
wall-clock in the event's zone (``-1d`` is the same time the day before, across a
DST change too).

Expansion reads only the files, never the clock or the store, so the same
schedule always gives the same entries: moving ``start`` changes the steps'
times (the sync cancels their planned rows and plans the new ones), and
``cancelled: true`` removes them (the sync cancels what was not sent) and adds one
``event:<id>:cancelled`` entry when a cancellation says something.

Templates of a step see, besides the usual variables, ``event`` (``id``,
``title``, ``start``, ``end``, ``timezone``, ``place``, ``url``, ``cancelled``),
``step`` (``-7d``…), ``days_left`` and ``hours_left`` (whole days and hours from
the step to the start, 0 from the start on).

The checks of ``events:`` are in :mod:`crosspost.loading.event_checks`, the steps'
times and entry ids in :mod:`crosspost.loading.event_steps`.
"""

# Annotations are not postponed (no ``from __future__ import annotations``): pydantic
# builds these models at import and would compile and evaluate each one from a string.
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from crosspost.loading.content_item import ContentItem
from crosspost.loading.event_steps import (
    CANCELLED_STEP,
    Loc,
    ResolvedStep,
    event_times,
    event_zone,
    resolved_steps,
    step_entry,
    wall_time,
)
from crosspost.loading.events_spec import EventSpec
from crosspost.loading.posts_spec import PostSpec
from crosspost.loading.schedule import ScheduleFile

__all__ = [
    "EventStepItem",
    "EventView",
    "Expansion",
    "expand_events",
]


class EventView(BaseModel):
    """What templates see as ``event``; times are aware, in the event's zone."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    start: datetime
    end: datetime | None = None
    timezone: str
    place: str | None = None
    url: str | None = None
    cancelled: bool = False


class EventStepItem(ContentItem):
    """The content of one step: the event's content with its countdown variables."""

    event: EventView
    step: str
    days_left: int = 0
    hours_left: int = 0

    def template_variables(self) -> dict[str, Any]:
        """``event``, ``step``, ``days_left``, ``hours_left``."""
        return {
            "event": self.event,
            "step": self.step,
            "days_left": self.days_left,
            "hours_left": self.hours_left,
        }


@dataclass
class Expansion:
    """The entries and content made from the events, and where each entry is written."""

    posts: list[PostSpec] = field(default_factory=list)
    content: dict[str, ContentItem] = field(default_factory=dict)
    targets: dict[str, list[str]] = field(default_factory=dict)
    origins: dict[str, Loc] = field(default_factory=dict)


def expand_events(
    schedule: ScheduleFile,
    content: dict[str, ContentItem],
    targets: Callable[[list[str]], list[str]],
) -> Expansion:
    """The post entries and content items of every enabled event (validated beforehand).

    Args:
        targets: the accounts a ``to:`` list names (groups expanded).
    """
    expansion = Expansion()
    for index, event in enumerate(schedule.events):
        if not event.enabled:
            continue
        zone = event_zone(event, schedule)
        steps = list(resolved_steps(event, index, schedule))
        if event.cancelled:
            made = [_cancellation(event, index, zone, steps, content)] if event.cancellation else []
        else:
            made = [_step(event, step, zone, content) for step in steps]
        for post, item, loc in made:
            expansion.posts.append(post)
            expansion.content[post.id] = item
            expansion.targets[post.id] = targets(event.to)
            # the default sequence is written nowhere: its entries point at the event
            written = "steps" in event.model_fields_set or post.id.endswith(CANCELLED_STEP)
            expansion.origins[post.id] = loc if written else ("events", index)
    return expansion


def _step(
    event: EventSpec, step: ResolvedStep, zone: ZoneInfo, content: dict[str, ContentItem]
) -> tuple[PostSpec, ContentItem, Loc]:
    name = step.spec.at.name
    entry = step_entry(event.id, name)
    post = _post(event, entry, step.at, event.missed, event.grace)
    start, _ = event_times(event, zone)
    left = max(start - step.at, timedelta(0))
    item = _item(
        event,
        zone,
        content,
        step.spec.content,
        step.spec.template,
        step=name,
        days_left=left.days,
        hours_left=int(left.total_seconds() // 3600),
    )
    return post, item, step.loc


def _cancellation(
    event: EventSpec,
    index: int,
    zone: ZoneInfo,
    steps: list[ResolvedStep],
    content: dict[str, ContentItem],
) -> tuple[PostSpec, ContentItem, Loc]:
    """The cancellation entry: at its ``at``, else from the first step's time up to the start.

    Without an ``at`` the time still comes from the files alone (so a reload keeps its row):
    posted at once when the cancellation is written after the first announcement, and
    in its place when written before.
    """
    assert event.cancellation is not None
    cancel = event.cancellation
    start, _ = event_times(event, zone)
    entry = step_entry(event.id, CANCELLED_STEP)
    if cancel.at is not None:
        post = _post(event, entry, wall_time(cancel.at, zone), event.missed, event.grace)
    else:
        first = min([s.at for s in steps] + [start])
        grace = max(start - first, timedelta(hours=1))
        post = _post(event, entry, first, "publish", grace)
    item = _item(event, zone, content, cancel.content, cancel.template, step=CANCELLED_STEP)
    return post, item, ("events", index, "cancellation")


def _post(event: EventSpec, entry: str, at: datetime, missed: str, grace: timedelta) -> PostSpec:
    spec = PostSpec.model_validate(
        {
            "id": event.id,  # a valid id for validation; the real one has ``:`` in it
            "content": entry,
            "to": event.to,
            "at": at,
            "timezone": event.timezone,
            "missed": missed,
            "grace": grace,
            "approval": event.approval,
        }
    )
    return spec.model_copy(update={"id": entry})


def _item(
    event: EventSpec,
    zone: ZoneInfo,
    content: dict[str, ContentItem],
    reference: str | None,
    template: str | None,
    **countdown: Any,
) -> EventStepItem:
    base = content.get(reference or event.content or "")
    data: dict[str, Any] = base.model_dump() if base is not None else {"id": event.id, "source": ""}
    data["title"] = data.get("title") or event.title
    data["link"] = data.get("link") or event.url
    data["template"] = template or event.template or data.get("template") or "default"
    start, _ = event_times(event, zone)
    view = EventView(
        id=event.id,
        title=event.title,
        start=start.replace(tzinfo=zone),
        end=wall_time(event.end, zone).replace(tzinfo=zone) if event.end else None,
        timezone=str(zone),
        place=event.place,
        url=event.url,
        cancelled=event.cancelled,
    )
    return EventStepItem.model_validate({**data, "event": view, **countdown})
