"""Which publications fall due in a range, in due order, and what each queue slot gets.

``check`` walks the queue slots of the next two weeks (:func:`queue_slots`);
:mod:`crosspost.planning.preview` renders the same rows for ``plan``. Nothing here
renders: ``check`` looks at the slots without defining what ``plan`` shows of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from crosspost.loading.content_item import ContentItem
from crosspost.loading.posts_spec import PostSpec
from crosspost.loading.project import Project
from crosspost.planning.plan import Occurrence, occurrences
from crosspost.planning.rotation import Choice
from crosspost.planning.slots import QueuePlanner
from crosspost.status import NEXT_SLOT

if TYPE_CHECKING:  # plan's feed entries; check has none to show
    from zoneinfo import ZoneInfo

    from crosspost.planning.preview import StoredPost

__all__ = ["COUNT_CAP", "PlanFilter", "Row", "queue_slots", "upcoming"]

#: Occurrences per entry counted for "first 200 of N".
COUNT_CAP = 100_000


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


#: An occurrence of an entry for an account; the content when it is not the entry's own.
Row = tuple[Occurrence, PostSpec, str, ContentItem | None]


def upcoming(
    project: Project,
    start: datetime,
    end: datetime,
    cap: int,
    only: PlanFilter,
    planner: QueuePlanner,
    stored: Sequence[StoredPost] = (),
    most: int | None = None,
) -> list[Row]:
    """The rows from ``start`` to ``end``; past ``most`` rows, only each entry's first."""
    rows: list[Row] = []
    for post in project.schedule.posts:
        if not post.enabled or not only.keeps_entry(post):
            continue
        zone = post.timezone or project.schedule.timezone
        accounts = [a for a in project.targets[post.id] if only.keeps_account(a)]
        if post.next_slot:
            rows += _next_slot_rows(post, accounts, zone, start, end, planner)
            continue
        counted = cap if most is None or len(rows) < most else 1
        for occurrence in occurrences(post, zone, start, end, counted):
            rows += [(occurrence, post, account, None) for account in accounts]
    for planned in stored:
        entry = project.post(planned.occurrence.entry)
        if entry is None or not only.keeps_entry(entry) or not only.keeps_account(planned.account):
            continue
        if only.contents and planned.item.id not in only.contents:
            continue
        rows.append((planned.occurrence, entry, planned.account, planned.item))
    rows.sort(key=lambda r: (r[0].due_at, r[1].id, r[2]))
    return rows


def _next_slot_rows(
    post: PostSpec,
    accounts: list[str],
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
    planner: QueuePlanner,
) -> list[Row]:
    rows: list[Row] = []
    for account in accounts:
        due = planner.next_slot(post, account)
        if due is not None and start <= due < end:
            rows.append(
                (Occurrence(due, post.id, NEXT_SLOT, due.astimezone(zone)), post, account, None)
            )
    return rows


def queue_slots(
    project: Project, start: datetime, end: datetime, planner: QueuePlanner
) -> list[tuple[Occurrence, str, Choice]]:
    """Every queue slot up to ``end`` with the item ``planner`` expects in it, whatever a
    filter shows (slots of one queue and account share their history)."""
    if not project.queues:
        return []
    queues = frozenset(e for q in project.queues.values() for e in q.entries)
    rows = upcoming(project, start, end, COUNT_CAP, PlanFilter(queues), planner)
    planner.play([(occurrence, post, acct) for occurrence, post, acct, _item in rows])
    return [(o, acct, planner.choice(o.entry, o.key, acct)) for o, _post, acct, _item in rows]
