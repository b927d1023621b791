"""Writing the plan down: upcoming occurrences become ``planned`` publications.

The store is the truth; the schedule file only says what should be there.
Each sync, for every enabled entry:

* occurrences from where planning stopped last time (or, for an entry seen for
  the first time, from now — a one-off ``at`` in the past is included so that
  its ``missed`` policy applies) up to ``now + horizon`` are added;
* planned, never-tried rows due from now on that the entry no longer produces
  (a moved time, a removed account) are cancelled;
* rows a sync cancelled that the entry produces again (it was removed by a bad
  save and restored, or moved and moved back) are planned again;

and every entry that left the schedule has its planned rows cancelled. Nothing
published, failed or unknown is ever touched, nor a row a person cancelled.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from crosspost.plan import Occurrence, occurrences
from crosspost.project import Project
from crosspost.publisher import ONE_OFF_PREFIX
from crosspost.schedule import PostSpec
from crosspost.store import PlannedRow, Store

__all__ = ["SKIP_TOLERANCE", "SyncReport", "grace_of", "sync_plan"]

#: How late a ``missed: skip`` entry may still go out (the dispatcher's own delay).
SKIP_TOLERANCE = timedelta(minutes=2)
#: How far ahead publications are written down.
DEFAULT_HORIZON = timedelta(hours=24)
_log = logging.getLogger(__name__)

#: At most this many occurrences per entry and sync (guards against ``every: 1s``).
MAX_PER_SYNC = 5_000
#: Longer than any DST shift (Lord Howe: 30 min; most: 1 h).
_DST_LOOKBACK = timedelta(hours=3)


@dataclass(frozen=True)
class SyncReport:
    """How the store changed."""

    added: int = 0
    cancelled: int = 0
    restored: int = 0


def grace_of(post: PostSpec) -> timedelta:
    """How late a publication of ``post`` may go out before it counts as missed."""
    return post.grace if post.missed == "publish" else SKIP_TOLERANCE


def sync_plan(
    project: Project, store: Store, now: datetime, horizon: timedelta = DEFAULT_HORIZON
) -> SyncReport:
    """Bring the store's planned publications in line with the project."""
    states = store.entry_states()
    added = cancelled = restored = 0
    active = set()
    for index, post in enumerate(project.schedule.posts):
        if not post.enabled:
            continue
        active.add(post.id)
        state = states.get(post.id)
        accounts = project.targets[post.id]
        try:
            start = min(state.planned_until, now) if state else _first_start(post, project, now)
            zone = post.timezone or project.schedule.timezone
            # Computed from a little earlier than needed: a wall time skipped by
            # spring-forward is only produced when the search starts before the gap.
            found = occurrences(
                post, zone, min(start, now - _DST_LOOKBACK), now + horizon, MAX_PER_SYNC
            )
            rows = _rows(post, [o for o in found if o.due_at >= start], accounts)
        except (ValueError, ArithmeticError) as exc:
            # check bounds every value; should one still fail, only its entry stops
            _log.error(
                "%s:%d: posts.%d (%s) cannot be planned, the other entries go on: %s",
                project.path,
                project.line_of("posts", index),
                index,
                post.id,
                exc,
            )
            continue
        added += store.add_planned(rows, now)
        keep = {(o.key, a) for o in found if o.due_at >= now for a in accounts}
        restored += store.restore_cancelled(post.id, keep, now, now)
        cancelled += store.cancel_planned(post.id, keep, now, now)
        store.set_planned_until(post.id, now + horizon, now)
    for entry in store.planned_entries() - active:
        if not entry.startswith(ONE_OFF_PREFIX):
            cancelled += store.cancel_planned(entry, set(), None, now)
    return SyncReport(added, cancelled, restored)


def _first_start(post: PostSpec, project: Project, now: datetime) -> datetime:
    """Where a new entry's planning starts: now, or at its one-off time if that has passed."""
    if post.at is None:
        return now
    zone = post.timezone or project.schedule.timezone
    at = post.at if post.at.tzinfo else post.at.replace(tzinfo=zone)
    return min(at, now)


def _rows(post: PostSpec, found: Iterable[Occurrence], accounts: list[str]) -> list[PlannedRow]:
    grace = grace_of(post)
    return [
        PlannedRow(post.id, o.key, account, post.content, o.due_at, o.due_at + grace)
        for o in found
        for account in accounts
    ]
