"""The room's ``/sync`` as the inbox's wake-up call (``inbox_stream: true``).

``GET /_matrix/client/v3/sync`` with ``since`` and ``timeout``
(https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3sync) is held open
by the homeserver until something new reaches the account or the time is up. The
stream syncs with a filter that leaves only the room's ``m.room.message`` events (no
state, presence, receipts or account data), first without ``since`` for a token of
"now", then from each answer's ``next_batch``. A message from anyone else wakes the
inbox, which reads from its own stored cursor (``/messages``): the stream carries no
items, so a message sent while it was down is read all the same, and syncing consumes
nothing another reader would miss.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping

from connectors.http import Kind
from connectors.matrix.api import CLIENT
from connectors.matrix.body import JsonObject
from connectors.matrix.reading import MatrixReading

__all__ = ["LONG_POLL", "MatrixStreaming"]

#: Seconds the homeserver holds a sync open when nothing arrives.
LONG_POLL = 30


class MatrixStreaming(MatrixReading):
    """The ``/sync`` part of :class:`connectors.matrix.MatrixConnector`."""

    def stream_inbox(self, stop: threading.Event) -> Iterator[None]:
        """Yield once synced, then each time members' messages reached the room.

        Raises:
            AuthError: the token (or the password) was refused.
            RateLimited, Rejected, Transient: a sync failed.
        """
        room, own = self.room_id(), self.user_id()
        since = self._text(self._sync(room, None, wait=0), "next_batch")
        yield  # synced: what came while no one listened is read now
        while not stop.is_set():
            answer = self._sync(room, since, wait=LONG_POLL)
            since = self._text(answer, "next_batch")
            if not stop.is_set() and _from_others(answer, room, own):
                yield

    def _sync(self, room: str, since: str | None, wait: int) -> JsonObject:
        params: dict[str, str | int] = {
            "filter": _room_messages(room),
            "timeout": wait * 1000,
            "set_presence": "offline",  # the bot's sync does not show it online
        }
        if since is not None:
            params["since"] = since
        timeout = self.held_open(wait)  # a first sync (no wait) may take a while too
        response = self._call(
            "GET", f"{CLIENT}/sync", kind=Kind.READ, params=params, timeout=timeout
        )
        return self._json(response)


def _room_messages(room: str) -> str:
    """A sync filter (inline JSON) that keeps the room's messages and nothing else."""
    nothing: dict[str, list[str]] = {"types": []}
    return json.dumps(
        {
            "presence": nothing,
            "account_data": nothing,
            "room": {
                "rooms": [room],
                "timeline": {"types": ["m.room.message"], "limit": 10},
                "state": nothing,
                "ephemeral": nothing,
                "account_data": nothing,
            },
        },
        separators=(",", ":"),
    )


def _from_others(answer: Mapping[str, object], room: str, own: str) -> bool:
    """Whether the sync's timeline of ``room`` holds a message someone else sent."""
    rooms = answer.get("rooms")
    joined = rooms.get("join") if isinstance(rooms, dict) else None
    ours = joined.get(room) if isinstance(joined, dict) else None
    timeline = ours.get("timeline") if isinstance(ours, dict) else None
    events = timeline.get("events") if isinstance(timeline, dict) else None
    return any(
        isinstance(event, dict)
        and event.get("type") == "m.room.message"
        and event.get("sender") not in (own, None)
        for event in events or ()
    )
