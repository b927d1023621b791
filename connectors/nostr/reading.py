"""Reading back from the relays: counts per post, followers, the inbox; and deleting.

Everything is a ``REQ`` to every relay (``connectors/nostr/relay.py``), events
de-duplicated by id across relays. A relay that fails is logged and left out; a
read fails only when no relay answered.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from connectors.base import (
    AccountMetrics,
    BaseConnector,
    ConnectorError,
    ConnectorSettings,
    ConnectorState,
    Extra,
    FollowerRef,
    InboxPage,
    Metrics,
    Published,
    RateLimited,
)
from connectors.http import Kind, Verdict, failure_for
from connectors.nostr.counting import count, inbox_item, uri
from connectors.nostr.events import (
    ARTICLE,
    CONTACTS,
    DELETION,
    GENERIC_REPOST,
    NOTE,
    REACTION,
    REPOST,
    Event,
    Tag,
    sign_event,
)
from connectors.nostr.keys import Keys, npub
from connectors.nostr.pool import Delivery, Gathered, RelayPool, deciding_verdict
from connectors.nostr.relay import Filter, RelayFailure
from connectors.nostr.settings import NostrSettings

__all__ = ["NostrReading"]

_E = TypeVar("_E", bound=ConnectorError)

#: Ids (or authors) per filter: relays bound the size of a filter.
BATCH = 100
#: Events asked for per filter; relays cap it lower, which makes counts lower bounds.
LIMIT = 5000
#: Newest notes of ours looked through by ``find_recent``.
RECENT = 50
#: Newest mentions read per ``fetch_inbox`` call.
INBOX_LIMIT = 500


def _batches(values: Sequence[str]) -> Iterator[list[str]]:
    unique = list(dict.fromkeys(values))
    for start in range(0, len(unique), BATCH):
        yield unique[start : start + BATCH]


def _descending(event_id: str) -> tuple[int, ...]:
    """A key under which the lowest id sorts highest."""
    return tuple(-ord(char) for char in event_id)


def _newest(events: Iterator[Event] | list[Event]) -> dict[str, Event]:
    """The newest event of each author (replaceable events: only the latest counts)."""
    newest: dict[str, Event] = {}
    for event in events:
        known = newest.get(event["pubkey"])
        # NIP-01: of two with the same created_at, the lowest id is the one kept
        if known is None or (event["created_at"], _descending(event["id"])) > (
            known["created_at"],
            _descending(known["id"]),
        ):
            newest[event["pubkey"]] = event
    return newest


class NostrReading(BaseConnector[NostrSettings]):
    """The relays, the one error mapping, and the reading half of the Nostr connector."""

    def __init__(
        self, account: str, settings: ConnectorSettings, state: ConnectorState | None = None
    ) -> None:
        super().__init__(account, settings, state)
        self.keys: Keys = self.settings.keys()
        self.pool = RelayPool(self.settings.relays, self.keys, self.settings.timeout)

    # -- errors ---------------------------------------------------------------

    def error(self, cls: type[_E], message: str, status: int | None = None) -> _E:
        """An error of this account; the secret key never shows, in any of its forms."""
        return super().error(cls, self._redact(message), status)

    def rate_limited(
        self, message: str, retry_at: datetime, status: int | None = None
    ) -> RateLimited:
        """A :class:`RateLimited` of this account; the secret key never shows."""
        return super().rate_limited(self._redact(message), retry_at, status)

    def _redact(self, text: str) -> str:
        for secret in self.keys.secret_forms:
            text = text.replace(secret, "***")
        return text

    def _failure(self, verdict: Verdict, kind: Kind) -> ConnectorError:
        """THE mapping of ``connectors/outcomes.py``, for this account, secrets masked."""
        return failure_for(
            verdict,
            kind,
            platform=self.name,
            account=self.account,
            now=datetime.now(UTC),
            redact=self._redact,
        )

    # -- the relays -----------------------------------------------------------

    def _deliver(self, event: Event, kind: Kind) -> Delivery:
        """Send ``event`` to every relay: ``min_relays`` acceptances, or the error that stands."""
        delivery = self.pool.publish(event, kind)
        for failure in delivery.failures:
            self.log.warning("%s", self._redact(str(failure)))
        needed = self.settings.min_relays
        if len(delivery.accepted) >= needed:
            return delivery
        verdict = deciding_verdict(delivery.failures, len(delivery.accepted), needed)
        raise self._failure(verdict, kind)

    def _query(self, filters: Sequence[Filter]) -> Gathered:
        """What the relays hold for ``filters``; fails only when no relay answered."""
        try:
            gathered = self.pool.query(filters)
        except RelayFailure as nobody:
            raise self._failure(nobody.verdict, Kind.READ) from None
        for failure in gathered.failures:
            self.log.warning("left out of this read: %s", self._redact(str(failure)))
        return gathered

    # -- reading back ---------------------------------------------------------

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        """Reactions, reposts, replies and quotes of each post; posts no relay has are left out.

        Raises:
            AuthError, RateLimited, Rejected, Transient: no relay answered.
        """
        events: dict[str, Event] = {}
        for batch in _batches(remote_ids):
            filters: list[Filter] = [
                {"ids": batch},
                {"kinds": [REACTION, REPOST, GENERIC_REPOST], "#e": batch, "limit": LIMIT},
                {"kinds": [NOTE], "#e": batch, "limit": LIMIT},
                {"kinds": [NOTE], "#q": batch, "limit": LIMIT},
            ]
            events.update(self._query(filters).events)
        found = [i for i in dict.fromkeys(remote_ids) if i in events]
        return count(events.values(), found, self.keys.pubkey)

    def account_metrics(self) -> AccountMetrics:
        """Followers (contact lists that name us) and following (our own contact list).

        Raises:
            AuthError, RateLimited, Rejected, Transient: no relay answered.
        """
        own = self._query([{"kinds": [CONTACTS], "authors": [self.keys.pubkey], "limit": 1}])
        latest = _newest(list(own.events.values())).get(self.keys.pubkey)
        following = len({tag[1] for tag in latest["tags"] if tag[:1] == ["p"]}) if latest else 0
        followers = len(self._follower_keys())
        return AccountMetrics(
            followers=followers,
            following=following,
            raw={"followers": followers, "following": following},
        )

    def followers(self, limit: int) -> list[FollowerRef]:
        """At most ``limit`` followers: authors whose newest contact list names us.

        Raises:
            AuthError, RateLimited, Rejected, Transient: no relay answered.
        """
        return [FollowerRef(key, npub(key)) for key in sorted(self._follower_keys())[:limit]]

    def _follower_keys(self) -> set[str]:
        """Authors of contact lists that name us, checked against their newest list.

        A relay may still hold a list that an author has since replaced elsewhere
        without us; asking for each candidate's newest list tells the two apart.
        """
        me = self.keys.pubkey
        naming = self._query([{"kinds": [CONTACTS], "#p": [me], "limit": LIMIT}])
        candidates = sorted(_newest(list(naming.events.values())))
        followers = set()
        for batch in _batches(candidates):
            lists = self._query([{"kinds": [CONTACTS], "authors": batch, "limit": LIMIT}])
            for author, event in _newest(list(lists.events.values())).items():
                if any(tag[:2] == ["p", me] for tag in event["tags"]):
                    followers.add(author)
        followers.discard(me)
        return followers

    def fetch_inbox(self, cursor: str | None) -> InboxPage:
        """Members' notes that tag us (mentions, replies, quotes) since ``cursor``.

        The cursor is the newest ``created_at`` seen; ``since`` includes it, so the
        events of that second come again (the store keeps each once).

        Raises:
            AuthError, RateLimited, Rejected, Transient: no relay answered.
        """
        query: dict[str, object] = {"kinds": [NOTE], "#p": [self.keys.pubkey], "limit": INBOX_LIMIT}
        if cursor and cursor.isdigit():
            query["since"] = int(cursor)
        gathered = self._query([query])
        events = sorted(gathered.events.values(), key=lambda e: (e["created_at"], e["id"]))
        items = [item for e in events if (item := inbox_item(e, self.keys.pubkey)) is not None]
        newest = max((e["created_at"] for e in events), default=None)
        return InboxPage(tuple(items), str(newest) if newest is not None else cursor)

    def find_recent(self, idempotency_key: str, text: str) -> Published | None:
        """Our newest note (or article) with this text, when ``min_relays`` relays have it.

        Found on fewer relays, it is reported missing: sending again is the same
        event, which carries it to the others.

        Raises:
            AuthError, RateLimited, Rejected, Transient: no relay answered.
        """
        query = {"kinds": [NOTE, ARTICLE], "authors": [self.keys.pubkey], "limit": RECENT}
        gathered = self._query([query])
        newest_first = sorted(gathered.events.values(), key=lambda e: -e["created_at"])
        for event in newest_first:
            content = event["content"]
            if content != text and not content.startswith(text + "\n"):
                continue
            relays = sorted(gathered.seen_on.get(event["id"], ()))
            if len(relays) < self.settings.min_relays:
                return None
            return Published(
                remote_id=event["id"],
                url=uri(event["id"]),
                published_at=datetime.fromtimestamp(event["created_at"], UTC),
                extra={
                    "kind": event["kind"],
                    "pubkey": event["pubkey"],
                    "created_at": event["created_at"],
                    "relays": {relay: "found" for relay in relays},
                },
            )
        return None

    def delete(self, remote_id: str, extra: Extra | None = None) -> None:
        """Ask the relays to delete the post (a NIP-09 deletion request; they MAY honour it).

        Raises:
            AuthError, RateLimited, Rejected, Transient: too few relays took the request.
        """
        kind = extra.get("kind") if extra else None
        tags: list[Tag] = [["e", remote_id]]
        if kind == ARTICLE and extra and isinstance(extra.get("d"), str):
            tags.append(["a", f"{ARTICLE}:{self.keys.pubkey}:{extra['d']}"])
        tags.append(["k", str(kind if isinstance(kind, int) else NOTE)])
        created = int(datetime.now(UTC).timestamp())
        event = sign_event(self.keys, created, DELETION, tags, "")
        self._deliver(event, Kind.HARMLESS_WRITE)
