"""What is wrong with ``events:`` (each at its file:line), and what ``check`` points out.

Problems refuse the project: a duplicate id, an unknown account or content, an end
before the start, a step twice or outside the event. Warnings do not: an event in
the past, a step already due.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from crosspost.errors import Problem
from crosspost.loading.content import Library
from crosspost.loading.event_steps import Loc, event_times, event_zone, resolved_steps
from crosspost.loading.events_spec import EventSpec, StepOffset
from crosspost.loading.schedule import ScheduleFile
from crosspost.loading.spec_types import YEARS
from crosspost.loading.yamlfile import Where

__all__ = ["event_problems", "event_template_problems", "event_warnings"]


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
    for index, event in schedule.indexed_events():
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
    for index, event in schedule.indexed_events():
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
    start, end = event_times(event, event_zone(event, schedule))
    if event.end is not None and end <= start:
        where.add(problems, ("end",), f"end {end} is not after start {start}")
        return
    names: set[str] = set()
    for step in resolved_steps(event, index, schedule):
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
    for index, event in schedule.indexed_events():
        if not event.enabled or event.cancelled:
            continue
        zone = event_zone(event, schedule)
        where = Where(root, path, ("events", index))
        start, end = event_times(event, zone)
        if end.replace(tzinfo=zone) < now:
            where.add(warnings, ("start",), f"{event.id} was on {start:%Y-%m-%d %H:%M} (past)")
            continue
        for step in resolved_steps(event, index, schedule):
            if step.at.replace(tzinfo=zone) < now:
                where.add(
                    warnings,
                    ("steps", step.index, "at"),
                    f"step {step.spec.at.name} of {event.id} was due "
                    f"{step.at:%Y-%m-%d %H:%M}: unless it went out, it is recorded missed "
                    "(or published within its grace)",
                )
    return warnings
