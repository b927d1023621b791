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
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from crosspost.errors import Problem
from crosspost.loading.content import ContentItem, Library
from crosspost.loading.schedule import (
    YEARS,
    EventSpec,
    EventStep,
    PostSpec,
    ScheduleFile,
    StepOffset,
)
from crosspost.loading.yamlfile import Where

__all__ = [
    "CANCELLED_STEP",
    "ENTRY_PREFIX",
    "EventStepItem",
    "EventView",
    "Expansion",
    "event_problems",
    "event_template_problems",
    "event_times",
    "event_warnings",
    "expand_events",
    "step_entry",
]

#: Entries made from events start with this (a ``posts:`` id cannot contain ``:``).
ENTRY_PREFIX = "event:"
#: The step name of a cancellation announcement.
CANCELLED_STEP = "cancelled"

Loc = tuple[str | int, ...]


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


@dataclass(frozen=True)
class _Step:
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
    start = _wall(event.start, zone)
    return start, _wall(event.end, zone) if event.end is not None else start


def _wall(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None) if moment.tzinfo else moment


def _zone(event: EventSpec, schedule: ScheduleFile) -> ZoneInfo:
    return event.timezone or schedule.timezone


def _steps(event: EventSpec, index: int, schedule: ScheduleFile) -> Iterator[_Step]:
    start, end = event_times(event, _zone(event, schedule))
    for position, step in enumerate(event.steps):
        anchor = start if step.at.anchor == "start" else end
        yield _Step(position, ("events", index, "steps", position), step, anchor + step.at.delta)


# --------------------------------------------------------------------------- validation


def event_problems(
    schedule: ScheduleFile,
    library: Library,
    root: Any,
    path: Path,
    unknown_account: Callable[[str], str],
) -> list[Problem]:
    """Everything wrong with ``events:``, each at its file:line.

    Args:
        library: the content (a reference to an item that failed to load is not unknown).
        unknown_account: the message for a name that is neither an account nor a group.
    """
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, event in enumerate(schedule.events):
        where = Where(root, path, ("events", index))
        if event.id in seen:
            where.add(problems, ("id",), f'"{event.id}" is used twice (event ids must be unique)')
        seen.add(event.id)
        for position, name in enumerate(event.to):
            if name not in schedule.accounts and name not in schedule.groups:
                where.add(problems, ("to", position), unknown_account(name))
        _reference_problems(event, library, where, problems)
        _time_problems(event, index, schedule, where, problems)
    return problems


def event_template_problems(
    schedule: ScheduleFile, root: Any, path: Path, template_problem: Callable[[str], str | None]
) -> list[Problem]:
    """Every template an event, step or cancellation names that matches no file, at its line.

    Args:
        template_problem: why a name is not a template, or None (the renderer's check).
    """
    problems: list[Problem] = []
    for index, event in enumerate(schedule.events):
        where = Where(root, path, ("events", index))
        named: list[tuple[Loc, str | None]] = [(("template",), event.template)]
        named += [(("steps", i, "template"), s.template) for i, s in enumerate(event.steps)]
        if event.cancellation is not None:
            named.append((("cancellation", "template"), event.cancellation.template))
        for loc, name in named:
            reason = template_problem(name) if name is not None else None
            if reason is not None:
                where.add(problems, loc, reason)
    return problems


def _reference_problems(
    event: EventSpec, library: Library, where: Where, problems: list[Problem]
) -> None:
    references: list[tuple[Loc, str | None]] = [(("content",), event.content)]
    references += [(("steps", i, "content"), s.content) for i, s in enumerate(event.steps)]
    if event.cancellation is not None:
        references.append((("cancellation", "content"), event.cancellation.content))
    for loc, reference in references:
        if reference is None or reference in library.items or library.failed_to_load(reference):
            continue
        close = difflib.get_close_matches(reference, sorted(library.items), n=1)
        hint = f'; did you mean "{close[0]}"?' if close else ""
        where.add(problems, loc, f'unknown content "{reference}"{hint}')


def _time_problems(
    event: EventSpec, index: int, schedule: ScheduleFile, where: Where, problems: list[Problem]
) -> None:
    start, end = event_times(event, _zone(event, schedule))
    if event.end is not None and end <= start:
        where.add(problems, ("end",), f"end {end} is not after start {start}")
        return
    names: set[str] = set()
    for step in _steps(event, index, schedule):
        loc = ("steps", step.index, "at")
        name = step.spec.at.name
        if name in names:
            where.add(problems, loc, f'step "{name}" is given twice')
        names.add(name)
        reason = _step_out_of_event(step.spec.at, step.at, start, end)
        if reason is None and step.at.year not in YEARS:
            reason = f"falls on {step.at}, outside the years {YEARS.start}-{YEARS.stop - 1}"
        if reason is not None:
            where.add(problems, loc, f"step {name} {reason}")


def _step_out_of_event(
    offset: StepOffset, at: datetime, start: datetime, end: datetime
) -> str | None:
    """Why a step anchored inside the event falls outside it (``start+5h`` of a 3-hour event)."""
    if offset.anchor == "start" and offset.delta > timedelta(0) and at > end:
        return (
            f"falls on {at:%Y-%m-%d %H:%M}, after the end ({end:%Y-%m-%d %H:%M}); "
            f"write +{offset.name.removeprefix('start+')} for an announcement after the event"
        )
    if offset.anchor == "end" and offset.delta < timedelta(0) and at < start:
        return (
            f"falls on {at:%Y-%m-%d %H:%M}, before the start ({start:%Y-%m-%d %H:%M}); "
            f"write {offset.name.removeprefix('end')} for an announcement before the event"
        )
    return None


def event_warnings(schedule: ScheduleFile, root: Any, path: Path, now: datetime) -> list[Problem]:
    """What ``check`` points out without failing: events in the past, steps already due."""
    warnings: list[Problem] = []
    for index, event in enumerate(schedule.events):
        if not event.enabled or event.cancelled:
            continue
        zone = _zone(event, schedule)
        where = Where(root, path, ("events", index))
        start, end = event_times(event, zone)
        if end.replace(tzinfo=zone) < now:
            where.add(warnings, ("start",), f"{event.id} was on {start:%Y-%m-%d %H:%M} (past)")
            continue
        for step in _steps(event, index, schedule):
            if step.at.replace(tzinfo=zone) < now:
                where.add(
                    warnings,
                    ("steps", step.index, "at"),
                    f"step {step.spec.at.name} of {event.id} was due "
                    f"{step.at:%Y-%m-%d %H:%M}: unless it went out, it is recorded missed "
                    "(or published within its grace)",
                )
    return warnings


# --------------------------------------------------------------------------- expansion


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
        zone = _zone(event, schedule)
        steps = list(_steps(event, index, schedule))
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
    event: EventSpec, step: _Step, zone: ZoneInfo, content: dict[str, ContentItem]
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
    steps: list[_Step],
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
        post = _post(event, entry, _wall(cancel.at, zone), event.missed, event.grace)
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
        end=_wall(event.end, zone).replace(tzinfo=zone) if event.end else None,
        timezone=str(zone),
        place=event.place,
        url=event.url,
        cancelled=event.cancelled,
    )
    return EventStepItem.model_validate({**data, "event": view, **countdown})
