"""``diagnose()`` for Matrix: the account, its membership and power level in the room.

Read-only client-server API calls (https://spec.matrix.org/latest/client-server-api/):

- ``GET /account/whoami``: whose token (a password login first when none is saved);
- ``GET /rooms/{room}/state/m.room.member/{user}``: the account has joined the room;
- ``GET /rooms/{room}/state/m.room.power_levels``: its level against what sending
  ``m.room.message`` needs (``events`` or ``events_default``).

Synapse sends no rate-limit headers before it limits (a 429 has ``retry_after_ms``).
"""

from __future__ import annotations

from collections.abc import Mapping

from connectors.diagnosis import Diagnosis
from connectors.http import Kind
from connectors.matrix.api import MatrixApi

__all__ = ["MatrixDoctor", "send_level"]


def _level(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def send_level(levels: Mapping[str, object], user_id: str) -> tuple[int, int]:
    """``(the user's power level, the level m.room.message needs)`` in a room's levels."""
    users, events = levels.get("users"), levels.get("events")
    mine = users.get(user_id) if isinstance(users, Mapping) else None
    needed = events.get("m.room.message") if isinstance(events, Mapping) else None
    return (
        _level(mine, _level(levels.get("users_default"), 0)),
        _level(needed, _level(levels.get("events_default"), 0)),
    )


class MatrixDoctor(MatrixApi):
    """``diagnose`` of :class:`connectors.matrix.MatrixConnector`."""

    def diagnose(self) -> Diagnosis:
        """The account, and whether it has joined the room and may send messages there.

        Raises:
            AuthError: the token (or password) is refused.
            RateLimited, Rejected, Transient.
        """
        user = self.user_id()
        member = self._call(
            "GET", self.room_path("state", "m.room.member", user), kind=Kind.READ, ok=(403, 404)
        )
        membership = self._json(member).get("membership") if member.ok else None
        if membership != "join":
            problem = f"the account has not joined the room ({membership or 'not a member'})"
            return self._found(user, [f"{problem}: invite it and let it join"])
        levels = self._json(
            self._call("GET", self.room_path("state", "m.room.power_levels"), kind=Kind.READ)
        )
        mine, needed = send_level(levels, user)
        if mine < needed:
            return self._found(
                user,
                [f"the account's power level {mine} is below the {needed} sending messages needs"],
            )
        return self._found(user, [])

    def _found(self, user: str, problems: list[str]) -> Diagnosis:
        return Diagnosis(
            identity=user,
            problems=tuple(problems),
            notes=("Synapse sends no rate-limit headroom before it limits",),
            details={"room": self.settings.room, "homeserver": self.settings.homeserver},
        )
