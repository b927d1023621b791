"""Joins and leaves read from a room's ``m.room.member`` events.

https://spec.matrix.org/v1.16/client-server-api/#mroommember: the membership is
``content.membership``; ``unsigned.membership`` is the *reader's* own membership
(MSC4115), and ``unsigned.prev_content`` holds the state the event replaced.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from connectors.matrix.body import Event

__all__ = ["MemberChanges", "membership_changes"]

#: Memberships that end a member's presence in the room (a kick is a ``leave`` by another).
_GONE = frozenset({"leave", "ban"})


@dataclass(frozen=True)
class MemberChanges:
    """User ids that joined and that left, in the order of the events."""

    joins: tuple[str, ...] = ()
    leaves: tuple[str, ...] = ()


def _membership(content: object) -> str:
    value = content.get("membership") if isinstance(content, dict) else None
    return value if isinstance(value, str) else ""


def membership_changes(events: Iterable[Event]) -> MemberChanges:
    """Who joined and who left in ``events`` (oldest first).

    A profile change is a ``join`` after a ``join`` and is no join; a refused
    invitation or a withdrawn knock is a ``leave`` of someone who never joined.
    """
    joins: list[str] = []
    leaves: list[str] = []
    for event in events:
        user = event.get("state_key")
        if event.get("type") != "m.room.member" or not isinstance(user, str):
            continue
        now = _membership(event.get("content"))
        before = _membership((event.get("unsigned") or {}).get("prev_content"))
        if now == "join" and before != "join":
            joins.append(user)
        elif now in _GONE and before == "join":
            leaves.append(user)
    return MemberChanges(tuple(joins), tuple(leaves))
