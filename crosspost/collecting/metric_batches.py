"""Which posts a collection round asks a platform about: the decaying schedule, in batches.

A post published at *P* is collected once after each step *s* of ``metrics.after``
(15 min, 1 h, 6 h, 24 h, 3 d, 7 d, 30 d): its step *falls due* at *P* + *s*, and its
snapshot may be taken anywhere in the step's **window**, from (1 − ``early``) × *s*
(the window *opens*) to *s* + min(``late`` × *s*, :data:`MAX_LATE`) (it *closes*).
A platform that answers many ids per call (``metrics_batch`` on the connector: Bluesky
25, X 100) costs one call per batch, so a round gathers an account's posts into as few
calls as these windows allow, whatever step each post is at (a call may carry one
post's 15 min step and others' 1 h or 6 h steps):

- **wait until a window is about to close**: calls go out in the last round before
  the first open window closes (rounds come every ``every``), then as many calls as the
  posts whose window closes before the next round need, and the room left in the last
  of them goes to the other open posts, those whose window closes first first;
- **unless nothing is coming**: when a step has fallen due and no other post's window
  opens before that last round, the same calls go out at once (a post alone is
  collected when its step falls due); a step that has not fallen due never starts a
  call, and a round with no next round (``every`` None) lets no fallen step wait;
- a step within ``align`` × *s* of falling due joins any batch even without room
  (off by default).

Waiting until the first window is about to close and filling by closing time is the
classic optimal greedy for covering windows with calls of a fixed capacity: no
schedule within the same windows makes fewer calls (the exchange argument: any
schedule's first call can move to that last round and swap its posts for the ones
whose windows close first). A round that finds several steps passed takes one
snapshot for all of them (the furthest step it covers is recorded with it, so a
snapshot taken early still covers its step).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from crosspost.store.collect import Candidate

__all__ = [
    "MAX_LATE",
    "Due",
    "Window",
    "account_batch",
    "batch_size",
    "next_step",
    "step_to_cover",
]

#: The longest a fallen step waits for others to share its batch.
MAX_LATE = timedelta(minutes=30)


@dataclass(frozen=True)
class Window:
    """How far from its step a snapshot may be taken, as fractions of the step."""

    #: Steps falling due within this fraction join a batch even without room.
    align: float = 0.0
    #: Steps falling due within this fraction fill the room left in a batch's last call.
    early: float = 0.3
    #: A fallen step waits up to this fraction (at most ``MAX_LATE``) for company.
    late: float = 0.5

    def lateness(self, step: timedelta) -> timedelta:
        """How long a fallen step may wait for company."""
        return min(step * self.late, MAX_LATE)


@dataclass(frozen=True)
class Due:
    """A post to collect this round and the step its snapshot covers."""

    candidate: Candidate
    step: timedelta


def next_step(
    published_at: datetime,
    last: datetime | None,
    steps: list[timedelta],
    covered: timedelta | None = None,
) -> timedelta | None:
    """The first step of ``steps`` not yet covered by a snapshot taken at ``last``.

    Args:
        published_at: when the post was published.
        last: when its newest snapshot was taken (None: never).
        steps: ``metrics.after``, shortest first.
        covered: the furthest step a snapshot recorded covering; a snapshot taken a
            little before its step (aligned collection) covers that step.

    Returns:
        The step, or None when every step is covered (collection is over).
    """
    for step in steps:
        if (covered is None or step > covered) and (last is None or published_at + step > last):
            return step
    return None


def step_to_cover(
    published_at: datetime,
    first: timedelta,
    steps: list[timedelta],
    now: datetime,
    align: float,
) -> timedelta | None:
    """The furthest step from ``first`` on that falls due by ``now`` within its window.

    A step *s* is in its window once ``now`` is at most ``align`` × *s* before it
    falls due; a round that finds several steps passed covers all of them at once.

    Returns:
        The step a snapshot taken now covers, or None when ``first`` is not in its window yet.
    """
    covered = None
    for step in steps:
        if step >= first and published_at + step <= now + step * align:
            covered = step
    return covered


@dataclass(frozen=True)
class _Open:
    """A post whose step may be collected now, and when its window closes."""

    due: Due
    closes: datetime
    fallen: bool
    #: Within ``align`` of falling due: goes with any batch, room or not.
    joins: bool = False


@dataclass
class _Sorted:
    """An account's candidates by where their next step stands at ``now``."""

    open: list[_Open] = field(default_factory=list)
    #: When the next post not in its window yet enters it (company coming).
    next_ready: datetime | None = None


def account_batch(
    candidates: Sequence[tuple[Candidate, timedelta]],
    steps: list[timedelta],
    now: datetime,
    window: Window,
    batch: int,
    every: timedelta | None = None,
) -> list[Due]:
    """What to collect now of one account's posts (nothing: no step due, or waiting).

    Args:
        candidates: each post with the first step it still needs.
        steps: ``metrics.after``, shortest first.
        now: the round's time.
        window: how early and late a snapshot may be taken.
        batch: how many ids the platform answers per call.
        every: how long until the next round; None when none follows (nothing waits).

    Returns:
        The posts to collect, those whose window closes first first.
    """
    if batch == 1:
        every = None  # one id per call: waiting for company saves no call
    found = _sort(candidates, steps, now, window)
    serve = _round_served(found, now, every)
    if serve is None:
        return []
    chosen: list[Due] = []
    others: list[Due] = []
    for post in sorted(found.open, key=lambda post: post.closes):
        going = post.joins or _closing(post, serve, every)
        (chosen if going else others).append(post.due)
    room = -_ids(chosen) % batch
    for due in others:
        parts = _ids([due])
        if parts <= room:
            chosen.append(due)
            room -= parts
    return chosen


def _round_served(found: _Sorted, now: datetime, every: timedelta | None) -> datetime | None:
    """The round whose calls go out now, or None to wait.

    That is the last round before the first window closes, served now when it is this
    round, or when a step has fallen due and no other post's window opens until then
    (nothing changes by that round, so the same calls go out without waiting).
    """
    fallen = any(post.fallen for post in found.open)
    if every is None:
        return now if fallen else None
    if not found.open:
        return None
    closes = min(post.closes for post in found.open)
    last = now + max(closes - now, timedelta(0)) // every * every
    if last == now:
        return now
    coming = found.next_ready is not None and found.next_ready <= last
    return last if fallen and not coming else None


def _closing(post: _Open, serve: datetime, every: timedelta | None) -> bool:
    """Whether ``post`` must go in the round ``serve``: its window closes before the next."""
    return post.fallen if every is None else post.closes < serve + every


def _sort(
    candidates: Sequence[tuple[Candidate, timedelta]],
    steps: list[timedelta],
    now: datetime,
    window: Window,
) -> _Sorted:
    found = _Sorted()
    for candidate, first in candidates:
        due_at = candidate.published_at + first
        closes = due_at + window.lateness(first)
        if due_at <= now:
            step = _covers(candidate, first, steps, now, window.align)
            found.open.append(_Open(Due(candidate, step), closes, fallen=True))
            continue
        joins = step_to_cover(candidate.published_at, first, steps, now, window.align)
        fills = joins or step_to_cover(candidate.published_at, first, steps, now, window.early)
        if fills is not None:
            found.open.append(_Open(Due(candidate, fills), closes, False, joins is not None))
        else:
            ready = due_at - first * window.early
            found.next_ready = min(ready, found.next_ready or ready)
    return found


def _covers(
    candidate: Candidate, first: timedelta, steps: list[timedelta], now: datetime, align: float
) -> timedelta:
    step = step_to_cover(candidate.published_at, first, steps, now, align)
    return first if step is None else step


def _ids(posts: Sequence[Due]) -> int:
    return sum(len(due.candidate.parts or (due.candidate.remote_id,)) for due in posts)


def batch_size(connector: object) -> int:
    """How many ids the connector's platform answers per metrics call (1 unless declared)."""
    size = getattr(connector, "metrics_batch", 1)
    return size if isinstance(size, int) and size > 0 else 1
