"""The reactions of a thread: one publication, several posts on the platform."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from connectors.base import Metrics
from crosspost.store.collect import COUNTS

__all__ = ["thread_metrics"]


def thread_metrics(parts: Sequence[str], found: Mapping[str, Metrics]) -> Metrics | None:
    """The reactions of a publication: the sum over all its parts, minus its own replies.

    Every part after the first is a reply to the thread, so the platform counts
    it among the replies; those are not reactions. A reply to a later part is
    counted on that part, so it is in the sum. A count no part reports stays None.

    Args:
        parts: remote ids of the thread's posts, the first one first.
        found: what the platform reported, by remote id (gone posts absent).

    Returns:
        The combined metrics, or None when the platform reported none of the parts.
    """
    present = [found[part] for part in parts if part in found]
    if not present:
        return None
    if len(parts) == 1:
        return present[0]
    totals = {name: _total(present, name) for name in COUNTS}
    replies = totals["replies"]
    if replies is not None:
        totals["replies"] = max(replies - (len(parts) - 1), 0)
    root = found.get(parts[0])
    thread = {"parts": len(parts), "reported": len(present), "own_replies": len(parts) - 1}
    raw = {**(root.raw if root is not None else {}), "thread": thread}
    return Metrics(**totals, raw=raw)


def _total(present: Sequence[Metrics], name: str) -> int | None:
    values = [value for value in (getattr(m, name) for m in present) if value is not None]
    return sum(values) if values else None
