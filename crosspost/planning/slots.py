"""Slots: which item fills a queue's slot, whether a slot is free, and an account's next one.

A slot is *taken* for an account when another post of that account is due near it:
within the queue's ``fill_gaps`` window, for a queue that only fills gaps (the slot
then stays empty), or at the same minute, when ``next-slot`` looks for a free one.
The posts that take slots are the account's scheduled entries (from the files;
queues excepted), its one-offs and its pinned ``next-slot`` posts (from the store).

The daemon decides each slot when it comes (:func:`decide`), from the store's
history; ``plan`` plays the slots ahead in due order from the same history
(:class:`QueuePlanner`), assuming each goes out as planned, so both pick the same
items. An ``at: next-slot`` entry is pinned to each account's next free slot when it
is first planned (:func:`pin_next_slots`), and keeps that time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from crosspost.history import History
from crosspost.loading.posts_spec import PostSpec
from crosspost.loading.project import Project
from crosspost.planning.approval import Approvals, needs_approval
from crosspost.planning.plan import Occurrence, first_fire_time, occurrences
from crosspost.planning.queues import Queue
from crosspost.planning.rotation import Choice, Posted, choose
from crosspost.rendering.humanize import duration

if TYPE_CHECKING:  # plan and check run without a database
    from crosspost.history_rows import Booked
    from crosspost.store import Store

__all__ = [
    "Busy",
    "QueuePlanner",
    "Timeline",
    "decide",
    "history_range",
    "history_wanted",
    "next_free_slot",
    "pin_next_slots",
    "slot_choice",
    "store_history",
    "store_timeline",
]

#: How far ahead a free slot is looked for.
SEARCH = timedelta(days=366)
#: Slots of one queue entry looked at per search, at most.
_SLOTS_LOOKED_AT = 5_000
#: Until when the store's one-offs are read for ``plan`` (they are few).
_FAR = timedelta(days=36_600)

BookedSource = Callable[[str, datetime, datetime], Sequence["Booked"]]


@dataclass(frozen=True, order=True)
class Busy:
    """A post of an account due at ``at`` (UTC) that takes the slots near it."""

    at: datetime
    entry: str


def _nothing_booked(_account: str, _low: datetime, _high: datetime) -> Sequence[Booked]:
    return ()


class Timeline:
    """When each account has posts: scheduled entries from the files, the rest from the store.

    Slots are looked at in due order, so each entry keeps its next occurrence from the
    last look: it is worked out again only once a slot lies past it (``plan`` over a
    month of slots beside thousands of entries asks each entry a few times, not once a slot).

    Args:
        booked: the store's one-offs and pinned slots of an account in ``[low, high]``.
    """

    def __init__(self, project: Project, booked: BookedSource = _nothing_booked) -> None:
        self.project = project
        self._booked = booked
        self._extra: dict[str, list[Busy]] = defaultdict(list)
        self._scheduled: dict[str, list[PostSpec]] | None = None
        #: Per entry: from when its next occurrence was looked for, and that occurrence.
        self._next: dict[str, tuple[datetime, datetime | None]] = {}

    def add(self, account: str, busy: Busy) -> None:
        """Count ``busy`` as well (a ``next-slot`` time ``plan`` worked out, not stored yet)."""
        self._extra[account].append(busy)

    def taken(self, account: str, at: datetime, window: timedelta) -> Busy | None:
        """A post of the account due within ``window`` of ``at``, or None.

        The one named is the first found in a fixed order (the earliest one-off or pinned
        slot; else the first entry as written), so ``plan`` and the daemon name the same.
        """
        low, high = at - window, at + window
        held = [Busy(b.due_at, b.entry) for b in self._booked(account, low, high)]
        held += [busy for busy in self._extra[account] if low <= busy.at <= high]
        if held:  # the store's (or, in plan, about to be): the earliest
            return min(held)
        for post in self._posts_of(account):
            due = self._next_due(post, low)
            if due is not None and due <= high:
                return Busy(due, post.id)
        return None

    def _next_due(self, post: PostSpec, low: datetime) -> datetime | None:
        """The entry's first occurrence from ``low`` on (within :data:`SEARCH`)."""
        known = self._next.get(post.id)
        if known is not None and known[0] <= low and (known[1] is None or known[1] >= low):
            return known[1]
        due = first_fire_time(self.project.trigger(post), low, low + SEARCH)
        self._next[post.id] = (low, due)
        return due

    def _posts_of(self, account: str) -> list[PostSpec]:
        if self._scheduled is None:
            self._scheduled = defaultdict(list)
            project = self.project
            for post in project.schedule.posts:
                if post.enabled and not post.next_slot and project.queue_of(post.id) is None:
                    for name in project.targets[post.id]:
                        self._scheduled[name].append(post)
        return self._scheduled.get(account, [])


def store_timeline(project: Project, store: Store) -> Timeline:
    """A timeline whose one-offs and pinned slots are read from ``store`` when asked."""
    from crosspost.store.slots import busy_rows

    pinned = _next_slot_entries(project)

    def booked(account: str, low: datetime, high: datetime) -> Sequence[Booked]:
        return busy_rows(store, low, high, pinned, [account])

    return Timeline(project, booked)


def _next_slot_entries(project: Project) -> list[str]:
    return [p.id for p in project.schedule.posts if p.next_slot and p.enabled]


def history_wanted(project: Project) -> tuple[list[str], list[str]]:
    """The entries whose rows the planner reads: every queue's, and the ``next-slot`` ones."""
    return [e for q in project.queues.values() for e in q.entries], _next_slot_entries(project)


def history_range(now: datetime) -> tuple[datetime, datetime]:
    """When the one-offs and pinned rows the planner reads are due (all of them, in practice)."""
    return now - _FAR, now + _FAR


def store_history(project: Project, store: Store | None, now: datetime) -> History:
    """What :class:`QueuePlanner` reads of ``store`` (nothing without one)."""
    if store is None:
        return History()
    from crosspost.store.approvals import approved_hashes
    from crosspost.store.slots import busy_rows, pending_queue_rows, pinned_slots, queue_turns

    approved = approved_hashes(store)
    entries, pinned = history_wanted(project)
    if not (entries or pinned):
        return History(approved=approved)
    low, high = history_range(now)
    return History(
        turns=queue_turns(store, entries),
        pending=pending_queue_rows(store, entries, now),
        pinned=pinned_slots(store, pinned),
        booked=busy_rows(store, low, high, pinned),
        approved=approved,
    )


def slot_choice(
    project: Project,
    queue: Queue,
    timeline: Timeline,
    history: Sequence[Posted],
    occurrence: tuple[str, str, str, datetime],
    approvals: Approvals,
) -> Choice:
    """The item for one slot: ``occurrence`` is ``(entry, key, account, due_at)``."""
    entry, key, account, due_at = occurrence
    window = queue.spec.fill_gaps
    taken = timeline.taken(account, due_at, window) if window is not None else None
    if window is not None and taken is not None:
        when = taken.at.astimezone(queue.zone)
        return Choice(
            None,
            f"slot taken by {taken.entry} at {when:%Y-%m-%d %H:%M} "
            f"(fill_gaps: within {duration(window)})",
        )
    unapproved: set[str] = set()
    if needs_approval(project, entry, account):
        unapproved = {i for i in queue.pool if approvals.by(project.content[i]) is None}
    return choose(queue, history, due_at, key, unapproved)


def decide(
    project: Project, store: Store, entry: str, key: str, account: str, due_at: datetime
) -> Choice:
    """What the daemon sends in a queue's slot now, from the store's history.

    Raises:
        KeyError: ``entry`` is not a queue's.
    """
    from crosspost.store.slots import queue_turns

    queue = project.queue_of(entry)
    if queue is None:
        raise KeyError(entry)
    turns = queue_turns(store, queue.entries, [account])
    history = [Posted(t.content, t.due_at) for t in turns]
    approvals = Approvals.read(store) if needs_approval(project, entry, account) else Approvals()
    timeline = store_timeline(project, store)
    return slot_choice(project, queue, timeline, history, (entry, key, account, due_at), approvals)


def next_free_slot(
    project: Project,
    timeline: Timeline,
    account: str,
    after: datetime,
    queue_id: str | None = None,
) -> tuple[datetime, Queue] | None:
    """The first slot of a queue of ``account`` from ``after`` on that nothing else takes."""
    best: tuple[datetime, Queue] | None = None
    for queue in project.queues.values():
        if queue_id is not None and queue.id != queue_id:
            continue
        window = queue.spec.fill_gaps or timedelta(0)
        for entry in queue.entries:
            post = project.post(entry)
            if post is None or account not in project.targets[entry]:
                continue
            for slot in occurrences(post, queue.zone, after, after + SEARCH, _SLOTS_LOOKED_AT):
                if best is not None and slot.due_at >= best[0]:
                    break
                if timeline.taken(account, slot.due_at, window) is None:
                    best = (slot.due_at, queue)
                    break
    return best


def pin_next_slots(
    project: Project, store: Store, posts: Iterable[PostSpec], now: datetime
) -> list[tuple[PostSpec, str, datetime]]:
    """``(entry, account, slot)`` for every ``at: next-slot`` post of an account that has
    no row yet: each account's next free slot, the earlier ones counted as taken."""
    from crosspost.store.slots import pinned_slots

    posts = [p for p in posts if p.next_slot and p.enabled]
    if not posts:
        return []
    pinned = pinned_slots(store, [p.id for p in posts])
    timeline = store_timeline(project, store)
    found = []
    for post in posts:
        for account in project.targets[post.id]:
            if (post.id, account) in pinned:
                continue
            slot = next_free_slot(project, timeline, account, now)
            if slot is not None:
                found.append((post, account, slot[0]))
                timeline.add(account, Busy(slot[0], post.id))
    return found


class QueuePlanner:
    """Plays the slots ahead as the daemon will: ``next-slot`` times first, then, in due
    order, the item of every queue slot, each choice added to the history of the next.

    Args:
        store: where the history is: the store, or its rows already read (None:
            nothing was sent yet).
        now: where the plan starts; queue rows due before it and not chosen yet come first.
    """

    def __init__(self, project: Project, store: Store | History | None, now: datetime) -> None:
        self.project = project
        self.now = now
        history = store if isinstance(store, History) else store_history(project, store, now)
        self.approvals = Approvals(history.approved)
        self._history: dict[tuple[str, str], list[Posted]] = defaultdict(list)
        for turn in history.turns:
            queue = project.queue_of(turn.entry)
            if queue is not None:
                self._history[queue.id, turn.account].append(Posted(turn.content, turn.due_at))
        self._pending = list(history.pending)
        self._booked = list(history.booked)
        self._pinned = dict(history.pinned)
        self.timeline = Timeline(project, self._booked_near)
        self.slots = self._next_slot_times()
        self._choices: dict[tuple[str, str, str], Choice] | None = None

    def _booked_near(self, account: str, low: datetime, high: datetime) -> list[Booked]:
        return [b for b in self._booked if b.account == account and low <= b.due_at <= high]

    def _next_slot_times(self) -> dict[tuple[str, str], datetime]:
        times: dict[tuple[str, str], datetime] = {}
        for post in self.project.schedule.posts:
            if not (post.next_slot and post.enabled):
                continue
            for account in self.project.targets[post.id]:
                pinned = self._pinned.get((post.id, account))
                if pinned is not None:
                    times[post.id, account] = pinned
                    continue
                slot = next_free_slot(self.project, self.timeline, account, self.now)
                if slot is not None:
                    times[post.id, account] = slot[0]
                    self.timeline.add(account, Busy(slot[0], post.id))
        return times

    def next_slot(self, post: PostSpec, account: str) -> datetime | None:
        """When an ``at: next-slot`` post goes out to ``account`` (None: no free slot)."""
        return self.slots.get((post.id, account))

    def choice(self, entry: str, key: str, account: str) -> Choice:
        """The item ``plan`` expects in this queue slot (computed for every slot at once).

        Raises:
            KeyError: a slot that was not planned.
        """
        if self._choices is None:
            raise KeyError("play() first")
        return self._choices[entry, key, account]

    def play(self, rows: Iterable[tuple[Occurrence, PostSpec, str]]) -> None:
        """Decide every queue slot of ``rows`` (all of them, not only those shown)."""
        slots = [(o.entry, o.key, account, o.due_at) for o, _post, account in rows]
        slots = [s for s in slots if self.project.queue_of(s[0]) is not None]
        slots.sort(key=lambda s: (s[3], s[0], s[2]))
        self._choices = {}
        played = defaultdict(list, {k: list(v) for k, v in self._history.items()})
        for slot in [*self._pending, *slots]:
            entry, key, account, due_at = slot
            queue = self.project.queue_of(entry)
            assert queue is not None
            history = played[queue.id, account]
            found = slot_choice(self.project, queue, self.timeline, history, slot, self.approvals)
            if found.content is not None:
                history.append(Posted(found.content, due_at))
            self._choices[entry, key, account] = found
