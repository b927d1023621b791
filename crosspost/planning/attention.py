"""What ``check`` points out about queues, approvals and first comments.

Problems fail ``check`` (exit 2): a first comment written for a platform that cannot
post one, a comment too long or failing to render. Warnings are printed and fail only
``check --strict`` (exit 1): queue items that cannot go out until approved, a queue
that runs dry (nothing it may post in a slot), a content's first comment an account
cannot post. Publications awaiting approval are listed (a state, not a mistake in the
files) and fail ``check --strict`` too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from crosspost.errors import ConfigError, Problem
from crosspost.loading.content_item import ContentItem
from crosspost.loading.project import Project
from crosspost.planning.approval import needs_approval
from crosspost.planning.checking import next_occurrences
from crosspost.planning.slots import QueuePlanner
from crosspost.planning.upcoming import queue_slots
from crosspost.publishing.comments import comment_problems

__all__ = ["DRY_WINDOW", "Attention", "Awaited", "attention"]

#: How far ahead ``check`` looks for a queue slot with nothing to post.
DRY_WINDOW = timedelta(days=14)


@dataclass(frozen=True)
class Awaited:
    """A next publication whose content awaits approval, and where its entry is written."""

    entry: str
    account: str
    content: str
    due: datetime
    where: Problem


@dataclass
class Attention:
    """What ``check`` says besides rendering: problems, warnings, approvals awaited."""

    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    awaiting: list[Awaited] = field(default_factory=list)


def attention(project: Project, now: datetime, planner: QueuePlanner) -> Attention:
    """Look at the next occurrence of every entry, and at the queues' next two weeks."""
    found = Attention()
    upcoming = next_occurrences(project, now, planner)
    entries = [(index, post.id, occurrence.due_at) for index, post, occurrence in upcoming]
    found.problems, found.warnings = comment_problems(project, entries)
    for index, post, occurrence in upcoming:
        line, name = project.where(index, post.id)
        queue = project.queue_of(post.id)
        for account in project.targets[post.id]:
            if not needs_approval(project, post.id, account):
                continue
            if queue is not None:
                waiting = [
                    i for i in queue.pool if planner.approvals.by(project.content[i]) is None
                ]
                if waiting:
                    message = (
                        f"{name} ({post.id} → {account}): {len(waiting)} of {len(queue.pool)} "
                        f"items await approval and are skipped until approved: "
                        + ", ".join(waiting)
                    )
                    found.warnings.append(Problem.at(project.path, line, 1, message))
                continue
            item = _item(project, post.content)
            if item is not None and planner.approvals.by(item) is None:
                message = (
                    f"{name} ({post.id} → {account}, due {occurrence.local:%Y-%m-%d %H:%M %Z}): "
                    f"{item.id}"
                )
                where = Problem.at(project.path, line, 1, message)
                found.awaiting.append(Awaited(post.id, account, item.id, occurrence.local, where))
    found.warnings += _dry_queues(project, now, planner)
    return found


def _item(project: Project, reference: str) -> ContentItem | None:
    try:
        return project.resolve_content(reference)
    except ConfigError:
        return None


def _dry_queues(project: Project, now: datetime, planner: QueuePlanner) -> list[Problem]:
    """The first slot per queue and account in the next two weeks that nothing can fill."""
    warned: set[tuple[str, str]] = set()
    warnings = []
    for occurrence, account, choice in queue_slots(project, now, now + DRY_WINDOW, planner):
        queue = project.queue_of(occurrence.entry)
        if queue is None or choice.content is not None or choice.why.startswith("slot taken"):
            continue
        if (queue.id, account) in warned:
            continue
        warned.add((queue.id, account))
        line, name = project.where(queue.index, occurrence.entry)
        warnings.append(
            Problem.at(
                project.path,
                line,
                1,
                f"{name} ({occurrence.entry} → {account}): the slot of "
                f"{occurrence.local:%Y-%m-%d %H:%M} stays empty, {choice.why}",
            )
        )
    return warnings
