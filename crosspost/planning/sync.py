"""Writing the plan down: upcoming occurrences become ``planned`` publications.

The store is the truth; the schedule file only says what should be there.
Each sync, for every enabled entry (or only those named: a daemon re-syncs the
entries whose definition changed, see :func:`definitions`, and between changes
only extends the plan with :func:`extend_plan`):

* occurrences from where planning stopped last time (or, for an entry seen for
  the first time, from now — a one-off ``at`` in the past is included so that
  its ``missed`` policy applies) up to ``now + horizon`` are added;
* planned, never-tried rows due from now on that the entry no longer produces
  (a moved time, a removed account) are cancelled;
* rows a sync cancelled that the entry produces again (it was removed by a bad
  save and restored, or moved and moved back) are planned again;

and every entry that left the schedule has its planned rows cancelled. Nothing
published, failed or unknown is ever touched, nor a row a person cancelled.
The rows are read in one query and changed in one transaction.

An ``at: next-slot`` entry has one row per account, at the account's next free queue
slot when it is first planned (:func:`crosspost.planning.slots.pin_next_slots`); that row keeps
its time, so the post goes out once.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from crosspost import __version__
from crosspost.loading.posts_spec import PostSpec
from crosspost.loading.project import Project
from crosspost.planning.plan import Occurrence, last_due, occurrences
from crosspost.planning.slots import pin_next_slots
from crosspost.rendering.target import is_scheduled
from crosspost.status import NEXT_SLOT, Status
from crosspost.store import PlannedRow, Store
from crosspost.store.planning import PlanRow, plan_rows, save_planned_until, set_plan_statuses
from crosspost.store.reading import EntryPlan
from crosspost.store.sessions import utc

__all__ = [
    "LEFT",
    "SKIP_TOLERANCE",
    "SyncReport",
    "definition_of",
    "definitions",
    "extend_plan",
    "grace_of",
    "resume_plan",
    "sync_plan",
]

#: How late a ``missed: skip`` entry may still go out (the dispatcher's own delay).
SKIP_TOLERANCE = timedelta(minutes=2)
#: How far ahead publications are written down.
DEFAULT_HORIZON = timedelta(hours=24)
#: At most this many occurrences per entry and sync (guards against ``every: 1s``).
MAX_PER_SYNC = 5_000
#: The stored definition of an entry whose rows were cancelled when it left the schedule.
LEFT = ""
#: Longer than any DST shift (Lord Howe: 30 min; most: 1 h).
_DST_LOOKBACK = timedelta(hours=3)

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncReport:
    """How the store changed."""

    added: int = 0
    cancelled: int = 0
    restored: int = 0
    #: Entries were left for a later extension (:func:`resume_plan`'s ``extend_before``).
    deferred: bool = False


def grace_of(post: PostSpec) -> timedelta:
    """How late a publication of ``post`` may go out before it counts as missed."""
    return post.grace if post.missed == "publish" else SKIP_TOLERANCE


def sync_plan(
    project: Project,
    store: Store,
    now: datetime,
    horizon: timedelta = DEFAULT_HORIZON,
    entries: Collection[str] | None = None,
    *,
    fingerprints: Mapping[str, str] | None = None,
) -> SyncReport:
    """Bring the store's planned publications in line with the project.

    ``entries`` limits the work to these ids (changed, removed or disabled ones);
    None looks at every entry, and at every entry that left the schedule.
    ``fingerprints``: :func:`definitions` of ``project``, when the caller has them.
    """
    states = store.entry_states()
    existing: dict[str, list[PlanRow]] = defaultdict(list)
    for row in plan_rows(store, now, entries):
        existing[row.entry].append(row)
    wanted = [
        p for p in project.schedule.posts if p.enabled and (entries is None or p.id in entries)
    ]
    new_rows: list[PlannedRow] = []
    cancel: list[int] = []
    restore: list[int] = []
    planned: list[PostSpec] = []
    for post in wanted:
        have = existing.pop(post.id, [])
        occurrences_of = _safe_occurrences(post, project, states.get(post.id), now, horizon)
        if occurrences_of is None:
            continue  # its rows stay as they are
        planned.append(post)
        add, off, back = _entry_changes(post, have, *occurrences_of, project.targets[post.id], now)
        new_rows += add
        cancel += off
        restore += back
    for entry, rows in existing.items():  # left the schedule, or disabled
        if is_scheduled(entry):
            cancel += [r.id for r in rows if r.status == Status.PLANNED]
    new_rows += _pinned_rows(project, store, planned, now)
    added = store.add_planned(new_rows, now)
    cancelled, restored = set_plan_statuses(store, cancel, restore, now)
    fingerprints = fingerprints if fingerprints is not None else definitions(project)
    synced = {p.id: fingerprints[p.id] for p in planned}
    enabled = {p.id for p in project.schedule.posts if p.enabled}
    covered = states.keys() if entries is None else states.keys() & set(entries)
    synced |= {e: LEFT for e in covered if e not in enabled}
    save_planned_until(store, {p.id: now + horizon for p in planned}, states, now, synced)
    return SyncReport(added, cancelled, restored)


def _entry_changes(
    post: PostSpec,
    have: list[PlanRow],
    found: list[Occurrence],
    new: list[Occurrence],
    accounts: list[str],
    now: datetime,
) -> tuple[list[PlannedRow], list[int], list[int]]:
    """What an entry's rows need: rows to add for ``new`` occurrences (those not stored
    yet), and the ids of future rows to cancel (no occurrence ``found`` any more) or to
    plan again (cancelled, but found again)."""
    known = {(r.occurrence, r.account) for r in have}
    added = [r for r in _rows(post, new, accounts) if (r.occurrence, r.account) not in known]
    keep = {(o.key, a) for o in found if o.due_at >= now for a in accounts}
    if post.next_slot:
        keep = {(NEXT_SLOT, a) for a in accounts}
    cancel: list[int] = []
    restore: list[int] = []
    for row in (r for r in have if r.due_at >= now):
        is_planned = row.status == Status.PLANNED
        if is_planned != ((row.occurrence, row.account) in keep):
            (cancel if is_planned else restore).append(row.id)
    return added, cancel, restore


def extend_plan(
    project: Project,
    store: Store,
    now: datetime,
    horizon: timedelta = DEFAULT_HORIZON,
    *,
    states: Mapping[str, EntryPlan] | None = None,
    before: datetime | None = None,
) -> SyncReport:
    """Write down the occurrences that came within ``horizon`` since the last sync.

    For entries whose definition did not change: nothing is cancelled or restored,
    only what lies beyond where each entry was planned up to is added, and only
    that is computed, so an extension costs the occurrences it adds. ``states``: the
    store's :meth:`~crosspost.store.Store.entry_states`, when the caller just read them.
    ``before``: only the entries planned up to an earlier moment (and new ones) are
    extended; the others have every row due until then written down already.
    Entries planned past their last occurrence (a one-off, an ended repeat) are
    left alone: a year of one-offs would otherwise be looked at every hour.
    """
    states = store.entry_states() if states is None else states
    wanted = [p for p in project.schedule.posts if p.enabled]
    deferred = False
    if before is not None:
        soon = [p for p in wanted if p.id not in states or _planned_before(states[p.id], before)]
        wanted, deferred = soon, len(soon) < len(wanted)
    zone = project.schedule.timezone
    wanted = [
        p for p in wanted if p.id not in states or not _planned_to_the_end(p, states[p.id], zone)
    ]
    new_rows: list[PlannedRow] = []
    planned: list[PostSpec] = []
    for post in wanted:
        state = states.get(post.id)
        occurrences_of = _safe_occurrences(post, project, state, now, horizon, extending=True)
        if occurrences_of is not None:
            planned.append(post)
            new_rows += _rows(post, occurrences_of[1], project.targets[post.id])
    new_rows += _pinned_rows(project, store, planned, now)
    added = store.add_planned(new_rows, now)
    first = {p.id: definition_of(project, p) for p in planned if p.id not in states}
    save_planned_until(store, {p.id: now + horizon for p in planned}, states, now, first)
    return SyncReport(added=added, deferred=deferred)


def _planned_before(state: EntryPlan, moment: datetime) -> bool:
    return utc(state.planned_until) < moment


def _planned_to_the_end(post: PostSpec, state: EntryPlan, zone: ZoneInfo) -> bool:
    last = last_due(post, zone)
    return last is not None and last + _DST_LOOKBACK < utc(state.planned_until)


def resume_plan(
    project: Project,
    store: Store,
    now: datetime,
    horizon: timedelta = DEFAULT_HORIZON,
    *,
    fingerprints: Mapping[str, str] | None = None,
    extend_before: datetime | None = None,
) -> SyncReport:
    """Bring a planned store in line at a start, at the cost of what changed.

    The entries whose definition differs from the one stored when they were last
    synced (new, changed, removed or disabled while nothing ran) are synced; the
    others are only extended. A store that holds no definitions, or one planned
    before they were kept, is synced whole. ``fingerprints``: :func:`definitions` of
    ``project``, when the caller has them (50,000 entries take a quarter of a second).
    ``extend_before``: extend only the entries planned up to an earlier moment (see
    :func:`extend_plan`); the caller extends the rest soon after.
    """
    current = fingerprints if fingerprints is not None else definitions(project)
    states = store.entry_states()
    stored = {entry: state.definition for entry, state in states.items()}
    if not stored or None in stored.values():
        return sync_plan(project, store, now, horizon, fingerprints=current)
    changed = {e for e in stored.keys() | current.keys() if stored.get(e) != current.get(e, LEFT)}
    if not changed:  # the states just read are the extension's
        return extend_plan(project, store, now, horizon, states=states, before=extend_before)
    synced = sync_plan(project, store, now, horizon, changed, fingerprints=current)
    extended = extend_plan(project, store, now, horizon, before=extend_before)
    return SyncReport(
        synced.added + extended.added, synced.cancelled, synced.restored, extended.deferred
    )


def definitions(project: Project) -> dict[str, str]:
    """A fingerprint of what decides each enabled entry's rows: a change means a re-sync.

    The content's text is not part of it: rows name their content, which is read
    when they are published. The version is: a release may plan the same entry
    differently. Every sync stores the fingerprints of the entries it planned, so a
    daemon starting on a planned store syncs only what changed while it was down.
    """
    return {
        post.id: definition_of(project, post) for post in project.schedule.posts if post.enabled
    }


def definition_of(project: Project, post: PostSpec) -> str:
    """The fingerprint of one entry (:func:`definitions`)."""
    zone = str(project.schedule.timezone)
    text = f"{__version__}|{post.model_dump_json()}|{zone}|{project.targets[post.id]}"
    return hashlib.sha256(text.encode()).hexdigest()


def _safe_occurrences(
    post: PostSpec,
    project: Project,
    state: EntryPlan | None,
    now: datetime,
    horizon: timedelta,
    *,
    extending: bool = False,
) -> tuple[list[Occurrence], list[Occurrence]] | None:
    """:func:`_occurrences`, or None (logged with its line) when this entry cannot be planned.

    ``check`` bounds every value, so this should not happen; should one still fail,
    only its entry stops and the others go on.
    """
    try:
        return _occurrences(post, project, state, now, horizon, extending)
    except (ValueError, ArithmeticError) as exc:
        index = project.schedule.posts.index(post)
        _log.error(
            "%s:%d: %s (%s) cannot be planned, the other entries go on: %s",
            project.path,
            *project.where(index, post.id),
            post.id,
            exc,
        )
        return None


def _occurrences(
    post: PostSpec,
    project: Project,
    state: EntryPlan | None,
    now: datetime,
    horizon: timedelta,
    extending: bool = False,
) -> tuple[list[Occurrence], list[Occurrence]]:
    """Every occurrence up to ``now + horizon``, and those not planned yet.

    ``extending``: the entry is unchanged since it was planned up to its
    ``planned_until``, so only what comes after that is looked for (``found`` too).
    """
    if state is None:
        start = _first_start(post, project, now)
    else:
        until = utc(state.planned_until)
        start = until if extending else min(until, now)
    zone = post.timezone or project.schedule.timezone
    # Computed from a little earlier than needed: a wall time skipped by
    # spring-forward is only produced when the search starts before the gap.
    since = start - _DST_LOOKBACK if extending and state else min(start, now - _DST_LOOKBACK)
    found = occurrences(post, zone, since, now + horizon, MAX_PER_SYNC)
    return found, [o for o in found if o.due_at >= start]


def _first_start(post: PostSpec, project: Project, now: datetime) -> datetime:
    """Where a new entry's planning starts: now, or at its one-off time if that has passed."""
    if post.at is None:
        return now
    zone = post.timezone or project.schedule.timezone
    at = post.at if post.at.tzinfo else post.at.replace(tzinfo=zone)
    return min(at, now)


def _pinned_rows(
    project: Project, store: Store, posts: list[PostSpec], now: datetime
) -> list[PlannedRow]:
    """Rows for the ``at: next-slot`` entries of accounts that have none yet."""
    return [
        PlannedRow(post.id, NEXT_SLOT, account, post.content, due, due + grace_of(post))
        for post, account, due in pin_next_slots(project, store, posts, now)
    ]


def _rows(post: PostSpec, found: Iterable[Occurrence], accounts: list[str]) -> list[PlannedRow]:
    grace = grace_of(post)
    return [
        PlannedRow(post.id, o.key, account, post.content, o.due_at, o.due_at + grace)
        for o in found
        for account in accounts
    ]
