"""The cross-checks of a project: names, targets, content references, triggers, notify.

``schedule.yaml`` is valid on its own (:mod:`crosspost.loading.schedule`); these read
its sections against each other (a ``to:`` naming no account, a ``content:`` naming
no item, a cron that never fires), each problem at its file:line, so that
:func:`crosspost.loading.project.load_project` reports them all at once.
"""

from __future__ import annotations

import difflib
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any

from apscheduler.triggers.base import BaseTrigger

from crosspost.errors import Problem
from crosspost.loading.content import Library
from crosspost.loading.posts_spec import PostSpec
from crosspost.loading.schedule import ScheduleFile
from crosspost.loading.yamlfile import locate
from crosspost.planning.plan import first_fire_time, trigger_for

__all__ = [
    "content_problems",
    "group_problems",
    "members_of",
    "next_slot_problems",
    "notify_problems",
    "post_targets",
    "trigger_problems",
    "unknown_account_message",
    "unknown_target",
    "wall_time_warnings",
]


def next_slot_problems(
    schedule: ScheduleFile,
    targets: dict[str, list[str]],
    queue_targets: dict[str, list[str]],
    root: Any,
    path: Path,
) -> list[Problem]:
    """``at: next-slot`` on an entry with an account no queue has slots for."""
    slotted = {account for accounts in queue_targets.values() for account in accounts}
    problems = []
    for index, post in schedule.indexed_posts():
        missing = [a for a in targets.get(post.id, []) if a not in slotted]
        if post.next_slot and post.enabled and missing:
            line, column = locate(root, ["posts", index, "at"])
            message = (
                f"posts.{index}.at: next-slot, but no queue has slots for "
                f"{', '.join(missing)} (add it to a queue's to:, or give a time)"
            )
            problems.append(Problem.at(path, line, column, message))
    return problems


def members_of(names: list[str], schedule: ScheduleFile) -> list[str]:
    """The accounts ``names`` stand for (groups expanded), each once, in order."""
    found: list[str] = []
    for name in names:
        members = schedule.groups.get(name, [name])
        found += [m for m in members if m not in found]
    return found


def group_problems(schedule: ScheduleFile, root: Any, path: Path) -> list[Problem]:
    """A group named like an account, and members that are no account."""
    problems = []
    for group, members in schedule.groups.items():
        if group in schedule.accounts:
            line, column = locate(root, ["groups", group])
            problems.append(
                Problem.at(path, line, column, f'groups.{group}: "{group}" is also an account name')
            )
        for index, member in enumerate(members):
            if member not in schedule.accounts:
                line, column = locate(root, ["groups", group, index])
                problems.append(
                    Problem.at(
                        path,
                        line,
                        column,
                        f"groups.{group}.{index}: " + unknown_account_message(member, schedule),
                    )
                )
    return problems


def unknown_target(name: str, schedule: ScheduleFile) -> str | None:
    """Why ``name`` is neither an account nor a group, or None when it is one."""
    if name in schedule.accounts or name in schedule.groups:
        return None
    return unknown_account_message(name, schedule)


def unknown_account_message(name: str, schedule: ScheduleFile) -> str:
    """`unknown account or group "x" (expected one of: …); did you mean "y"?`."""
    names = sorted(schedule.accounts) + sorted(schedule.groups)
    close = difflib.get_close_matches(name, names, n=1)
    hint = f'; did you mean "{close[0]}"?' if close else ""
    known = ", ".join(names) or "none defined"
    return f'unknown account or group "{name}" (expected one of: {known}){hint}'


def post_targets(
    schedule: ScheduleFile, root: Any, path: Path
) -> tuple[dict[str, list[str]], list[Problem]]:
    """The accounts of each ``posts:`` entry (groups expanded), and the names that are none."""
    targets: dict[str, list[str]] = {}
    problems = []
    for index, post in schedule.indexed_posts():
        names: list[str] = []
        for position, name in enumerate(post.to):
            members = schedule.groups.get(name, [name] if name in schedule.accounts else None)
            if members is None:
                line, column = locate(root, ["posts", index, "to", position])
                problems.append(
                    Problem.at(
                        path,
                        line,
                        column,
                        f"posts.{index}.to: " + unknown_account_message(name, schedule),
                    )
                )
                continue
            names += [m for m in members if m not in names]
        targets[post.id] = names
    return targets, problems


def content_problems(
    schedule: ScheduleFile, library: Library, root: Any, path: Path, base: Path
) -> list[Problem]:
    """``posts:`` entries whose content is no item and no Markdown file."""
    content = library.items
    problems = []
    for index, post in schedule.indexed_posts():
        reference = post.content
        if reference in content or (reference.endswith(".md") and (base / reference).is_file()):
            continue
        if library.failed_to_load(reference):  # its own problems are reported already
            continue
        if not content and schedule.content_dir is None and not schedule.content:
            hint = " (no content is defined: add content: entries or a content_dir)"
        else:
            named = sorted({*content, *library.failed} - {""})  # a broken item is still named
            close = difflib.get_close_matches(reference, named, n=1)
            hint = f'; did you mean "{close[0]}"?' if close else ""
        line, column = locate(root, ["posts", index, "content"])
        problems.append(
            Problem.at(
                path, line, column, f'posts.{index}.content: unknown content "{reference}"{hint}'
            )
        )
    return problems


def trigger_problems(schedule: ScheduleFile, root: Any, path: Path) -> list[Problem]:
    """Triggers that cannot be built or never fire, and ``until`` not after the start."""
    problems = []
    for index, post in schedule.indexed_posts():
        if post.next_slot:
            continue  # its time comes from a queue's slots, checked with the queues
        field = "cron" if post.cron else "every" if post.every else "at"
        try:
            trigger = trigger_for(post, post.timezone or schedule.timezone)
            reason = _never_fires(post, trigger)
        except (ValueError, OverflowError) as exc:
            reason = str(exc)
        if reason is None:
            reason, field = _until_problem(post), "until"
        if reason is not None:
            line, column = locate(root, ["posts", index, field])
            problems.append(Problem.at(path, line, column, f"posts.{index}.{field}: {reason}"))
    return problems


def wall_time_warnings(
    schedule: ScheduleFile, root: Any, path: Path, now: datetime
) -> list[Problem]:
    """One-offs to come at a wall time the clocks skip or show twice that night (DST).

    Both go out (docs/decisions.md: a skipped time at the offset before the change, a
    repeated one once, at the first); ``check`` says when, as the time is not the one
    written, or not the only one it could mean.
    """
    warnings = []
    for index, post in schedule.indexed_posts():
        if post.at is None or post.at.tzinfo is not None or not post.enabled:
            continue
        zone = post.timezone or schedule.timezone
        if post.at.replace(tzinfo=zone) < now:
            continue
        fires = first_fire_time(trigger_for(post, zone), now, datetime.max.replace(tzinfo=UTC))
        reason = _wall_time_problem(post.at, zone, fires) if fires is not None else None
        if reason is not None:
            line, column = locate(root, ["posts", index, "at"])
            warnings.append(Problem.at(path, line, column, f"posts.{index}.at: {reason}"))
    return warnings


def _wall_time_problem(written: datetime, zone: tzinfo, fires: datetime) -> str | None:
    """Why ``written`` in ``zone`` is not one plain instant, and when the planner has it
    go out (``fires``) then."""
    first, second = written.replace(tzinfo=zone, fold=0), written.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return None
    shown = f"{written:%Y-%m-%d %H:%M}"
    goes_out = fires.astimezone(zone)
    if goes_out.replace(tzinfo=None) != written:
        return (
            f"{shown} does not exist in {zone} (the clocks go from {first.tzname()} to "
            f"{goes_out.tzname()} that night): it goes out at {goes_out:%H:%M %Z}"
        )
    return (
        f"{shown} happens twice in {zone} (in {first.tzname()}, then in {second.tzname()} "
        f"after the clocks go back): it goes out once, at {goes_out:%H:%M %Z}"
    )


def _never_fires(post: PostSpec, trigger: BaseTrigger) -> str | None:
    """Why a cron entry would never go out (``0 0 31 2 *``: there is no 31 February)."""
    if post.cron is None or post.until is not None:
        return None  # an ended entry is checked against its until
    if not _fires_at_all(trigger):
        return f'cron "{post.cron}" never fires (no date matches it)'
    return None


@lru_cache(maxsize=4096)
def _fires_at_all(trigger: BaseTrigger) -> bool:
    """Whether a cron trigger without an end fires from now on: the same answer any day,
    so entries that share a line (and so its trigger, see
    :func:`~crosspost.planning.plan.cron_trigger`) ask once."""
    return trigger.get_next_fire_time(None, datetime.now(UTC)) is not None


def _until_problem(post: PostSpec) -> str | None:
    if post.until is None:
        return None
    for name in ("start", "at"):
        begin = getattr(post, name)
        if begin is not None and _naive(post.until) <= _naive(begin):
            return f"until {post.until} is not after {name} {begin}: the entry would never run"
    return None


def _naive(moment: datetime) -> datetime:
    # both are read as wall-clock times of the same entry; an explicit offset is kept
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def notify_problems(schedule: ScheduleFile, root: Any, path: Path) -> list[Problem]:
    """``notify.to`` names that are neither an account nor a group."""
    if schedule.notify is None:
        return []
    problems = []
    for index, name in enumerate(schedule.notify.to):
        if name not in schedule.accounts and name not in schedule.groups:
            line, column = locate(root, ["notify", "to", index])
            problems.append(
                Problem.at(
                    path,
                    line,
                    column,
                    f"notify.to.{index}: " + unknown_account_message(name, schedule),
                )
            )
    return problems
