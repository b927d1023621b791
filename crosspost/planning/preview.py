"""What ``check`` and ``plan`` show: every upcoming post rendered and measured, nothing sent.

A queue's slots show the item :class:`~crosspost.planning.slots.QueuePlanner` expects there and
why; ``at: next-slot`` entries their account's next free slot (or the one they were
pinned to).

What ``check`` renders and reports is :mod:`crosspost.planning.checking`; which rows
fall due, and the queue slots ``check`` looks at, :mod:`crosspost.planning.upcoming`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from crosspost.errors import ConfigError, RenderError, RenderLimitError
from crosspost.loading.content_item import ContentItem
from crosspost.loading.posts_spec import PostSpec
from crosspost.loading.project import Project
from crosspost.planning.checking import next_occurrences, render_occurrence
from crosspost.planning.plan import Occurrence
from crosspost.planning.slots import QueuePlanner
from crosspost.planning.upcoming import COUNT_CAP, PlanFilter, queue_slots, upcoming

__all__ = [
    "NextPost",
    "PlannedPost",
    "StoredPost",
    "next_of_each",
    "plan_checksum",
    "next_posts",
    "plan_page",
    "plan_posts",
]


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
    #: Why a queue's slot gets this item (or stays empty), or that it awaits approval.
    note: str = ""


def _zone(project: Project, post: PostSpec) -> str:
    return str(post.timezone or project.schedule.timezone)


@dataclass(frozen=True)
class StoredPost:
    """A publication written down already whose content is not in the files (a feed entry)."""

    occurrence: Occurrence
    account: str
    item: ContentItem


def plan_posts(
    project: Project,
    start: datetime,
    end: datetime,
    limit: int | None = None,
    planner: QueuePlanner | None = None,
) -> Iterator[PlannedPost]:
    """Upcoming publications in due order, rendered and measured."""
    planner = planner or QueuePlanner(project, None, start)
    rows = upcoming(project, start, end, limit or 10_000, PlanFilter(), planner)
    queue_slots(project, start, end, planner)
    # A render that ran into a bound (time, output) is not tried again for the same entry
    # and account: one runaway template must not cost its bound once per occurrence.
    runaway: dict[tuple[str, str], RenderLimitError] = {}
    for occurrence, post, account, item in rows[:limit] if limit else rows:
        yield _planned(project, post, account, occurrence, runaway, planner, item)


@dataclass(frozen=True)
class NextPost:
    """When the next publication falls due, in UTC and in its entry's zone."""

    due_at: datetime
    local: datetime
    zone: str


def next_posts(
    project: Project, start: datetime, end: datetime, most: int | None = None
) -> tuple[NextPost | None, int]:
    """The first upcoming publication and how many fall due before ``end``.

    Nothing is rendered and no connector is built, so no platform is asked anything
    (the daemon calls this before its first round). Past ``most`` the count stops
    (it is then more than ``most``, not exact), so a large schedule costs little.
    """
    planner = QueuePlanner(project, None, start)
    rows = upcoming(project, start, end, COUNT_CAP, PlanFilter(), planner, most=most)
    if not rows:
        return None, 0
    occurrence, post, _account, _item = rows[0]
    return NextPost(occurrence.due_at, occurrence.local, _zone(project, post)), len(rows)


def plan_page(
    project: Project,
    start: datetime,
    end: datetime,
    limit: int,
    only: PlanFilter,
    planner: QueuePlanner | None = None,
    stored: Sequence[StoredPost] = (),
) -> tuple[list[PlannedPost], int]:
    """The first ``limit`` matching publications, rendered, and how many match in all.

    Only the shown ones are rendered; the total counts up to
    :data:`~crosspost.planning.upcoming.COUNT_CAP` occurrences per entry. ``planner``
    holds the store's history (None: none); ``stored`` are publications of feed entries,
    already planned.
    """
    planner = planner or QueuePlanner(project, None, start)
    rows = upcoming(project, start, end, COUNT_CAP, only, planner, stored)
    queue_slots(project, start, end, planner)
    chosen = rows[:limit] if limit else rows
    runaway: dict[tuple[str, str], RenderLimitError] = {}
    shown = [
        _planned(project, post, acct, occ, runaway, planner, item)
        for occ, post, acct, item in chosen
    ]
    return shown, len(rows)


def _planned(
    project: Project,
    post: PostSpec,
    account: str,
    occurrence: Occurrence,
    runaway: dict[tuple[str, str], RenderLimitError],
    planner: QueuePlanner,
    item: ContentItem | None = None,
) -> PlannedPost:
    connector = project.connector(account)
    limits = connector.effective_limits
    content, note = (
        (item.id, "") if item else _content_of(project, post, account, occurrence, planner)
    )
    try:
        if content is None:
            parts, problems = [], []
        elif (post.id, account) in runaway:
            raise runaway[post.id, account]
        else:
            rendered = render_occurrence(project, post, account, occurrence, item or content)
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
        content=content or "-",
        due_at=occurrence.due_at.isoformat(),
        local=occurrence.local.isoformat(),
        zone=_zone(project, post),
        lengths=[connector.measure(p) for p in parts],
        limit=limits.max_length,
        unit=limits.unit,
        parts=parts,
        problems=problems,
        note=note,
    )


def _content_of(
    project: Project, post: PostSpec, account: str, occurrence: Occurrence, planner: QueuePlanner
) -> tuple[str | None, str]:
    """What a publication sends (None: an empty queue slot) and the note ``plan`` shows."""
    if project.queue_of(post.id) is not None:
        choice = planner.choice(post.id, occurrence.key, account)
        return choice.content, choice.why
    try:
        item = project.resolve_content(post.content)
    except ConfigError:
        return post.content, ""
    if planner.approvals.lacking(project, post.id, account, item):
        return post.content, f"awaits approval: crosspost approve {item.id}"
    return post.content, ""


def plan_checksum(posts: list[PlannedPost]) -> str:
    """sha256 of the plan, to tell whether two plans are the same."""
    data = json.dumps([asdict(p) for p in posts], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def next_of_each(project: Project, now: datetime, planner: QueuePlanner) -> list[PlannedPost]:
    """The next occurrence of every enabled entry, rendered for each of its targets."""
    rows = [
        (occurrence, post, account)
        for _index, post, occurrence in next_occurrences(project, now, planner)
        for account in project.targets[post.id]
    ]
    planner.play(rows)  # a queue's slot shows the item it would get
    runaway: dict[tuple[str, str], RenderLimitError] = {}
    return [
        _planned(project, post, a, occurrence, runaway, planner) for occurrence, post, a in rows
    ]
