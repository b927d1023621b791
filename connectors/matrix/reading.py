"""Reading a Matrix room back: reactions, thread replies, members, the room's messages.

- Relations: https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv1roomsroomidrelationseventidreltype
  (reactions are not totalled by the server: they are paged and counted here)
- Thread summaries: https://spec.matrix.org/v1.16/client-server-api/#server-side-aggregation-of-mthread-relationships
- Members: https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3roomsroomidjoined_members
- Messages: https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3roomsroomidmessages
- Redaction: https://spec.matrix.org/v1.16/client-server-api/#put_matrixclientv3roomsroomidredacteventidtxnid
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import cast
from urllib.parse import quote

from connectors.base import (
    AccountMetrics,
    Extra,
    FollowerRef,
    InboxItem,
    InboxPage,
    Metrics,
    Published,
)
from connectors.http import Kind
from connectors.matrix.api import MatrixApi
from connectors.matrix.body import Event, txn_id
from connectors.matrix.members import MemberChanges, membership_changes

__all__ = ["MatrixReading"]

#: Pages of reactions read per event at most (100 each): a bound on one round's work.
REACTION_PAGES = 20
#: Events of the room looked through for a post whose outcome is unknown.
RECENT_EVENTS = 100
#: Thread parts looked for after the first.
MAX_PARTS = 100
_MESSAGES = json.dumps({"types": ["m.room.message"]})
_MEMBERS = json.dumps({"types": ["m.room.member"]})


def _time(event: Event) -> datetime:
    stamp = event.get("origin_server_ts")
    if not isinstance(stamp, int):
        return datetime.now(UTC)
    return datetime.fromtimestamp(stamp / 1000, UTC)


def _events(body: Mapping[str, object]) -> list[Event]:
    chunk = body.get("chunk")
    return [cast(Event, e) for e in chunk if isinstance(e, dict)] if isinstance(chunk, list) else []


class MatrixReading(MatrixApi):
    """The reads of :class:`~connectors.matrix.MatrixConnector` (and its delete)."""

    def permalink(self, event_id: str) -> str:
        """A matrix.to link to ``event_id`` in the room, via the account's server."""
        room, event = quote(self.room_id(), safe="!"), quote(event_id, safe="")
        return f"https://matrix.to/#/{room}/{event}?via={quote(self.server_name(), safe='')}"

    def _published(self, remote_id: str, at: datetime, **extra: object) -> Published:
        return Published(
            remote_id=remote_id,
            url=self.permalink(remote_id),
            published_at=at,
            extra={"room_id": self.room_id(), **extra},
        )

    # -- metrics ----------------------------------------------------------------

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        """Reactions (paged relations) and thread replies of each event; gone events left out.

        Raises:
            AuthError, RateLimited, Transient.
        """
        result: dict[str, Metrics] = {}
        for event_id in dict.fromkeys(remote_ids):
            response = self._call(
                "GET", self.room_path("event", event_id), kind=Kind.READ, ok=(404,)
            )
            if response.status_code == 404:
                continue
            event = cast(Event, self._json(response))
            reactions = self._reactions(event_id)
            result[event_id] = Metrics(
                likes=sum(reactions.values()),
                replies=_thread_count(event),
                raw={"reactions": reactions},
            )
        return result

    def _reactions(self, event_id: str) -> dict[str, int]:
        """How many members reacted with each key (a member's repeated key counts once)."""
        seen: set[tuple[str, str]] = set()
        path = self.room_path("relations", event_id, "m.annotation", api="/_matrix/client/v1")
        params: dict[str, str | int] = {"limit": 100}
        for _page in range(REACTION_PAGES):
            body = self._json(self._call("GET", path, kind=Kind.READ, params=params))
            for event in _events(body):
                relates = (event.get("content") or {}).get("m.relates_to") or {}
                key, sender = relates.get("key"), event.get("sender")
                if event.get("type") == "m.reaction" and isinstance(key, str) and sender:
                    seen.add((str(sender), key))
            following = body.get("next_batch")
            if not isinstance(following, str) or not following:
                break
            params = {"limit": 100, "from": following}
        counts: dict[str, int] = {}
        for _sender, key in sorted(seen):
            counts[key] = counts.get(key, 0) + 1
        return counts

    def account_metrics(self) -> AccountMetrics:
        """Members of the room, and who joined and left since the last time asked.

        Joins and leaves come from the room's ``m.room.member`` events after the
        token kept in the state (none on the first call, which only sets it).

        Raises:
            AuthError, RateLimited, Transient.
        """
        joined = self._joined()
        changes = self._member_changes()
        raw: dict[str, object] = {"joined_members": len(joined)}
        if changes is not None:
            raw.update(joins=list(changes.joins), leaves=list(changes.leaves))
        return AccountMetrics(members=len(joined), raw=raw)

    def _joined(self) -> dict[str, object]:
        body = self._json(self._call("GET", self.room_path("joined_members"), kind=Kind.READ))
        joined = body.get("joined")
        return joined if isinstance(joined, dict) else {}

    def followers(self, limit: int) -> list[FollowerRef]:
        """The room's joined members (their user ids), at most ``limit``.

        Raises:
            AuthError, RateLimited, Transient.
        """
        found = []
        for user_id, profile in sorted(self._joined().items()):
            name = profile.get("display_name") if isinstance(profile, dict) else None
            found.append(FollowerRef(user_id, str(name or user_id)))
        return found[:limit]

    def _member_changes(self) -> MemberChanges | None:
        """Joins and leaves after the saved token (None when there was none), saving the new one."""
        token = self.state.load().get("members_from")
        if not isinstance(token, str):
            self._save_token(self._head())
            return None
        events: list[Event] = []
        for _page in range(10):
            params: dict[str, str | int] = {
                "dir": "f",
                "from": token,
                "limit": 100,
                "filter": _MEMBERS,
            }
            body = self._json(
                self._call("GET", self.room_path("messages"), kind=Kind.READ, params=params)
            )
            events += _events(body)
            following = body.get("end")
            if not isinstance(following, str) or following == token:
                break
            token = following
        self._save_token(token)
        return membership_changes(events)

    def _save_token(self, token: str) -> None:
        self.state.update(lambda data: data.update(members_from=token))

    def _head(self) -> str:
        """A token for "now" in the room's timeline."""
        params: dict[str, str | int] = {"dir": "b", "limit": 1, "filter": _MESSAGES}
        body = self._json(
            self._call("GET", self.room_path("messages"), kind=Kind.READ, params=params)
        )
        return self._text(body, "start")

    # -- the inbox: what members write in the room -----------------------------

    def fetch_inbox(self, cursor: str | None) -> InboxPage:
        """Members' messages after ``cursor`` (a ``/messages`` token); the latest page when None.

        Raises:
            AuthError, RateLimited, Transient.
        """
        if cursor is None:
            params: dict[str, str | int] = {"dir": "b", "limit": 100, "filter": _MESSAGES}
        else:
            params = {"dir": "f", "from": cursor, "limit": 100, "filter": _MESSAGES}
        body = self._json(
            self._call("GET", self.room_path("messages"), kind=Kind.READ, params=params)
        )
        events = _events(body)
        if cursor is None:
            events.reverse()
            following = body.get("start")
        else:
            following = body.get("end") or cursor
        own = self.user_id()
        items = [item for event in events if (item := self._inbox_item(event, own)) is not None]
        return InboxPage(tuple(items), following if isinstance(following, str) else cursor)

    def _inbox_item(self, event: Event, own: str) -> InboxItem | None:
        content = event.get("content") or {}
        sender, event_id = event.get("sender"), event.get("event_id")
        if sender == own or not sender or not event_id or not content.get("msgtype"):
            return None  # our own posts, or a redacted message
        relates = content.get("m.relates_to") or {}
        if relates.get("rel_type") == "m.replace":
            return None  # an edit of a message already read
        answered = _answered(relates)
        mentioned = own in ((content.get("m.mentions") or {}).get("user_ids") or ())
        kind = "reply" if answered else "mention" if mentioned else "comment"
        return InboxItem(
            remote_id=str(event_id),
            kind=kind,
            author=str(sender),
            author_id=str(sender),
            text=str(content.get("body") or ""),
            url=self.permalink(str(event_id)),
            created_at=_time(event),
            in_reply_to=answered,
            raw={"msgtype": content.get("msgtype"), "thread_root": _thread_root(relates)},
        )

    # -- reconciling and deleting -----------------------------------------------

    def find_recent(self, idempotency_key: str, text: str) -> Published | None:
        """The post (and thread parts) sent with this key's transaction ids, or None.

        A homeserver shows the sending device its own ``transaction_id`` in
        ``unsigned``; the room's latest messages of this account are looked through.
        """
        params: dict[str, str | int] = {
            "dir": "b",
            "limit": RECENT_EVENTS,
            "filter": json.dumps({"types": ["m.room.message"], "senders": [self.user_id()]}),
        }
        body = self._json(
            self._call("GET", self.room_path("messages"), kind=Kind.READ, params=params)
        )
        by_txn = {
            str(e["unsigned"]["transaction_id"]): e
            for e in _events(body)
            if isinstance(e.get("unsigned"), dict) and e["unsigned"].get("transaction_id")
        }
        first = by_txn.get(txn_id(idempotency_key))
        if first is None or not first.get("event_id"):
            return None
        ids = [str(first["event_id"])]
        for index in range(1, MAX_PARTS):
            part = by_txn.get(txn_id(f"{idempotency_key}-{index}"))
            if part is None:
                break
            ids.append(str(part.get("event_id")))
        found = self._published(ids[0], _time(first))
        return Published(found.remote_id, found.url, found.published_at, tuple(ids), found.extra)

    def delete(self, remote_id: str, extra: Extra | None = None) -> None:
        """Redact the event (and, for the first part, the images sent with it).

        Raises:
            AuthError, RateLimited, Rejected (status 404 when it is gone), Transient.
        """
        media = (
            (extra or {}).get("media_event_ids")
            if remote_id == (extra or {}).get("event_id")
            else None
        )
        for event_id in [remote_id, *(media or ())]:
            path = self.room_path("redact", str(event_id), txn_id(f"redact {event_id}"))
            self._call("PUT", path, kind=Kind.HARMLESS_WRITE, json={"reason": "retracted"})


def _thread_count(event: Event) -> int:
    """Replies in the thread the event starts, from the server's summary (0 without one)."""
    relations = (event.get("unsigned") or {}).get("m.relations")
    thread = relations.get("m.thread") if isinstance(relations, dict) else None
    count = thread.get("count") if isinstance(thread, dict) else None
    return count if isinstance(count, int) else 0


def _thread_root(relates: Mapping[str, object]) -> str | None:
    """The root of the thread a message was written in (an answer goes there too)."""
    root = relates.get("event_id")
    return root if relates.get("rel_type") == "m.thread" and isinstance(root, str) else None


def _answered(relates: Mapping[str, object]) -> str | None:
    """The event a message answers: a thread's root, else the message it replies to."""
    if relates.get("rel_type") == "m.thread" and isinstance(relates.get("event_id"), str):
        return str(relates["event_id"])
    reply = relates.get("m.in_reply_to")
    if isinstance(reply, dict) and isinstance(reply.get("event_id"), str):
        return str(reply["event_id"])
    return None
