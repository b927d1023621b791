"""Which item of a queue fills a slot: cooldown, repeat cap and order, from the history alone.

The choice depends only on the queue's settings and pool, on the items it sent the
account before (at their slot times) and on the slot, never on the clock: ``plan``,
which plays the slots ahead one after the other, and the daemon, which chooses at each
slot from what the store recorded, come to the same item.

=========================  =====================================================
``round-robin``            the item after the last one sent, in pool order
``least-recently-posted``  the item sent longest ago (never sent first), pool order on ties
``random``                 drawn with the queue's ``seed`` and the slot, so it repeats
=========================  =====================================================

An item is skipped while it is in its cooldown, once it reached ``max_repeats``, and
(for queues that need approval) until it is approved.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from crosspost.planning.queues import Queue

__all__ = ["Choice", "Posted", "choose"]

#: How many skipped items a reason names before it says "and N more".
_NAMED = 3


@dataclass(frozen=True)
class Posted:
    """An item a queue sent to an account, at its slot's due time (UTC)."""

    content: str
    at: datetime


@dataclass(frozen=True)
class Choice:
    """The item for a slot (None: the slot stays empty), and why, in words for ``plan``."""

    content: str | None
    why: str


def choose(
    queue: Queue,
    history: Sequence[Posted],
    slot: datetime,
    slot_key: str,
    unapproved: Collection[str] = (),
) -> Choice:
    """The item of ``queue`` for the slot due at ``slot`` (UTC), keyed ``slot_key``.

    Args:
        history: what the queue sent this account before the slot, oldest first.
        unapproved: items that may not go out yet (the queue needs approval).
    """
    pool = queue.pool
    reasons = {item: _reason(queue, item, history, slot, unapproved) for item in pool}
    eligible = [item for item in pool if reasons[item] is None]
    skipped = [f"{item} {reasons[item]}" for item in pool if reasons[item] is not None]
    if not eligible:
        return Choice(None, "nothing to post: " + _named(skipped) if skipped else "empty pool")
    order = queue.spec.order
    if order == "random":
        seed = queue.spec.seed or 0
        drawn = random.Random(f"{seed}|{queue.id}|{slot_key}").randrange(len(eligible))
        return Choice(eligible[drawn], f"random (seed {seed}) among {len(eligible)} eligible")
    if order == "least-recently-posted":
        item, why, passed = _least_recent(pool, eligible, history, queue)
    else:
        item, why, passed = _round_robin(pool, eligible, history)
    named = [f"{i} {reasons[i]}" for i in passed]
    return Choice(item, why + (f"; passed over {_named(named)}" if named else ""))


def _reason(
    queue: Queue,
    item: str,
    history: Sequence[Posted],
    slot: datetime,
    unapproved: Collection[str],
) -> str | None:
    """Why ``item`` cannot fill the slot, or None."""
    if item in unapproved:
        return "awaits approval"
    sent = [p.at for p in history if p.content == item]
    cap = queue.spec.max_repeats
    if cap is not None and len(sent) >= cap:
        times = "once" if len(sent) == 1 else f"{len(sent)} times"
        return f"was posted {times} (max_repeats: {cap})"
    cooldown = queue.spec.cooldown
    if cooldown is not None and sent and slot - max(sent) < cooldown:
        until = (max(sent) + cooldown).astimezone(queue.zone)
        return f"is in its cooldown until {until:%Y-%m-%d %H:%M}"
    return None


def _round_robin(
    pool: Sequence[str], eligible: Sequence[str], history: Sequence[Posted]
) -> tuple[str, str, list[str]]:
    """The next eligible item after the last one sent, and the items passed over."""
    last = history[-1].content if history else None
    start = pool.index(last) + 1 if last in pool else 0
    passed: list[str] = []
    for offset in range(len(pool)):
        item = pool[(start + offset) % len(pool)]
        if item in eligible:
            why = f"round-robin after {last}" if last in pool else "round-robin, first of the pool"
            return item, why, passed
        passed.append(item)
    raise AssertionError("an eligible item is in the pool")


def _least_recent(
    pool: Sequence[str], eligible: Sequence[str], history: Sequence[Posted], queue: Queue
) -> tuple[str, str, list[str]]:
    """The eligible item sent longest ago, and the items sent even longer ago passed over."""
    last: dict[str, datetime] = {}
    for posted in history:
        last[posted.content] = posted.at
    ranked = sorted(pool, key=lambda i: (i in last, last.get(i, datetime.min), pool.index(i)))
    chosen = next(i for i in ranked if i in eligible)
    passed = ranked[: ranked.index(chosen)]
    if chosen not in last:
        return chosen, "least recently posted (never before)", passed
    when = last[chosen].astimezone(queue.zone)
    return chosen, f"least recently posted (last on {when:%Y-%m-%d %H:%M})", passed


def _named(reasons: Sequence[str]) -> str:
    shown = "; ".join(reasons[:_NAMED])
    more = len(reasons) - _NAMED
    return shown + (f"; and {more} more" if more > 0 else "")
