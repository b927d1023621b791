"""What ``check`` and ``plan`` show: every upcoming post rendered and measured, nothing sent."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from connectors.base import RenderedPost
from crosspost.errors import Problem, RenderLimitError
from crosspost.plan import Occurrence, occurrences
from crosspost.project import Project
from crosspost.render import RenderError
from crosspost.schedule import PostSpec
from crosspost.target import render_target

__all__ = [
    "COUNT_CAP",
    "NextPost",
    "PlanFilter",
    "PlannedPost",
    "check_project",
    "plan_checksum",
    "next_posts",
    "plan_page",
    "plan_posts",
]

#: How far ahead ``check`` looks for an entry's next occurrence: a one-off for an
#: event two years away is checked today, not the year before it is due.
CHECK_WINDOW = timedelta(days=100 * 366)
#: Occurrences per entry counted for "first 200 of N".
COUNT_CAP = 100_000


@dataclass(frozen=True)
class PlannedPost:
    """One upcoming publication as it would go out."""

    entry: str
    occurrence: str
    account: str
    platform: str
    content: str
    due_at: str
    local: str
    zone: str
    lengths: list[int]
    limit: int
    unit: str
    parts: list[str]
    problems: list[str]


def _zone(project: Project, post: PostSpec) -> str:
    return str(post.timezone or project.schedule.timezone)


def _render(project: Project, post: PostSpec, account: str, occurrence: Occurrence) -> RenderedPost:
    item = project.resolve_content(post.content)
    return render_target(project, post.id, account, occurrence.due_at, item)


@dataclass(frozen=True)
class PlanFilter:
    """Which publications ``plan`` shows; an empty set keeps all."""

    entries: frozenset[str] = frozenset()
    accounts: frozenset[str] = frozenset()
    contents: frozenset[str] = frozenset()

    def keeps_entry(self, post: PostSpec) -> bool:
        return (not self.entries or post.id in self.entries) and (
            not self.contents or post.content in self.contents
        )

    def keeps_account(self, account: str) -> bool:
        return not self.accounts or account in self.accounts


_Row = tuple[Occurrence, PostSpec, str]


def _upcoming(
    project: Project, start: datetime, end: datetime, cap: int, only: PlanFilter
) -> list[_Row]:
    rows: list[_Row] = []
    for post in project.schedule.posts:
        if not post.enabled or not only.keeps_entry(post):
            continue
        zone = post.timezone or project.schedule.timezone
        accounts = [a for a in project.targets[post.id] if only.keeps_account(a)]
        for occurrence in occurrences(post, zone, start, end, cap):
            rows += [(occurrence, post, account) for account in accounts]
    rows.sort(key=lambda r: (r[0].due_at, r[1].id, r[2]))
    return rows


def plan_posts(
    project: Project, start: datetime, end: datetime, limit: int | None = None
) -> Iterator[PlannedPost]:
    """Upcoming publications in due order, rendered and measured."""
    rows = _upcoming(project, start, end, limit or 10_000, PlanFilter())
    # A render that ran into a bound (time, output) is not tried again for the same entry
    # and account: one runaway template must not cost its bound once per occurrence.
    runaway: dict[tuple[str, str], RenderLimitError] = {}
    for occurrence, post, account in rows[:limit] if limit else rows:
        yield _planned(project, post, account, occurrence, runaway)


@dataclass(frozen=True)
class NextPost:
    """When the next publication falls due, in UTC and in its entry's zone."""

    due_at: datetime
    local: datetime
    zone: str


def next_posts(project: Project, start: datetime, end: datetime) -> tuple[NextPost | None, int]:
    """The first upcoming publication and how many fall due before ``end``.

    Nothing is rendered and no connector is built, so no platform is asked anything
    (the daemon calls this before its first round).
    """
    rows = _upcoming(project, start, end, COUNT_CAP, PlanFilter())
    if not rows:
        return None, 0
    occurrence, post, _account = rows[0]
    return NextPost(occurrence.due_at, occurrence.local, _zone(project, post)), len(rows)


def plan_page(
    project: Project, start: datetime, end: datetime, limit: int, only: PlanFilter
) -> tuple[list[PlannedPost], int]:
    """The first ``limit`` matching publications, rendered, and how many match in all.

    Only the shown ones are rendered; the total counts up to :data:`COUNT_CAP`
    occurrences per entry.
    """
    rows = _upcoming(project, start, end, COUNT_CAP, only)
    chosen = rows[:limit] if limit else rows
    runaway: dict[tuple[str, str], RenderLimitError] = {}
    shown = [_planned(project, post, account, occ, runaway) for occ, post, account in chosen]
    return shown, len(rows)


def _planned(
    project: Project,
    post: PostSpec,
    account: str,
    occurrence: Occurrence,
    runaway: dict[tuple[str, str], RenderLimitError],
) -> PlannedPost:
    connector = project.connector(account)
    limits = connector.effective_limits
    try:
        if (post.id, account) in runaway:
            raise runaway[post.id, account]
        rendered = _render(project, post, account, occurrence)
        parts, problems = list(rendered.parts), connector.check(rendered)
    except RenderLimitError as exc:
        runaway[post.id, account] = exc
        parts, problems = [], [str(exc.problem)]
    except RenderError as exc:
        parts, problems = [], [str(exc.problem)]
    return PlannedPost(
        entry=post.id,
        occurrence=occurrence.key,
        account=account,
        platform=connector.name,
        content=post.content,
        due_at=occurrence.due_at.isoformat(),
        local=occurrence.local.isoformat(),
        zone=_zone(project, post),
        lengths=[connector.measure(p) for p in parts],
        limit=limits.max_length,
        unit=limits.unit,
        parts=parts,
        problems=problems,
    )


def plan_checksum(posts: list[PlannedPost]) -> str:
    """sha256 of the plan, to tell whether two plans are the same."""
    data = json.dumps([asdict(p) for p in posts], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def check_project(project: Project, now: datetime, platform_rules: bool = True) -> list[Problem]:
    """Render the next occurrence of every entry for every target and check it.

    Every problem is placed on the entry's line in ``schedule.yaml``, or on the
    template line that failed. ``platform_rules=False`` only renders (what a
    daemon's reload asks: a post too long fails alone, a broken template fails all).
    """
    problems: list[Problem] = []
    for index, post in enumerate(project.schedule.posts):
        if not post.enabled:
            continue
        zone = post.timezone or project.schedule.timezone
        upcoming = occurrences(post, zone, now, now + CHECK_WINDOW, 1)
        if not upcoming:
            continue  # a one-off in the past: its missed policy decides, status shows it
        problems += _check_entry(project, index, post, upcoming[0], platform_rules)
    return problems


def _check_entry(
    project: Project, index: int, post: PostSpec, occurrence: Occurrence, platform_rules: bool
) -> list[Problem]:
    problems = []
    line, name = project.where(index, post.id)
    for account in project.targets[post.id]:
        try:
            rendered = _render(project, post, account, occurrence)
        except RenderError as exc:
            problems.append(exc.problem)
            continue
        if not platform_rules:
            continue
        connector = project.connector(account)
        for reason in connector.check(rendered):
            problems.append(
                Problem.at(
                    project.path,
                    line,
                    1,
                    f"{name} ({post.id} → {account}, "
                    f"due {occurrence.local:%Y-%m-%d %H:%M %Z}): {reason}",
                )
            )
    return problems
