"""Nostr events: NIP-01 serialization and id, and the tags crosspost writes.

Written from NIP-01 (events, ids), NIP-10 (reply tags), NIP-18 (reposts, quotes),
NIP-23 (long-form), NIP-25 (reactions), NIP-36 (content warning), NIP-32 (labels,
for the language), NIP-09 (deletion requests) and NIP-92 (``imeta``):
https://github.com/nostr-protocol/nips
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import TypedDict

from connectors.nostr.keys import Keys, verify

__all__ = [
    "ARTICLE",
    "CONTACTS",
    "DELETION",
    "GENERIC_REPOST",
    "NOTE",
    "REACTION",
    "REPOST",
    "Event",
    "Tag",
    "as_event",
    "event_id",
    "first_tag",
    "sign_event",
    "tag_values",
]

Tag = list[str]

#: Event kinds crosspost writes or reads.
NOTE = 1
CONTACTS = 3
DELETION = 5
REPOST = 6
REACTION = 7
GENERIC_REPOST = 16
ARTICLE = 30023


class Event(TypedDict):
    """A signed event, as relays send and receive it."""

    id: str
    pubkey: str
    created_at: int
    kind: int
    tags: list[Tag]
    content: str
    sig: str


def event_id(pubkey: str, created_at: int, kind: int, tags: Sequence[Tag], content: str) -> str:
    """sha256 of ``[0, pubkey, created_at, kind, tags, content]`` as NIP-01 serializes it.

    Compact JSON, UTF-8 and not ASCII-escaped: ``json.dumps`` escapes exactly the
    characters NIP-01 lists (quote, backslash, control characters) and nothing else.
    """
    serialized = json.dumps(
        [0, pubkey, created_at, kind, [list(tag) for tag in tags], content],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(serialized.encode("utf-8")).hexdigest()


def sign_event(keys: Keys, created_at: int, kind: int, tags: Sequence[Tag], content: str) -> Event:
    """A signed event; the same inputs always give the same id (the signature varies)."""
    tags = [list(tag) for tag in tags]
    identifier = event_id(keys.pubkey, created_at, kind, tags, content)
    return Event(
        id=identifier,
        pubkey=keys.pubkey,
        created_at=created_at,
        kind=kind,
        tags=tags,
        content=content,
        sig=keys.sign(identifier),
    )


def _is_hex(value: object, length: int) -> bool:
    if not isinstance(value, str) or len(value) != length:
        return False
    return all(c in "0123456789abcdef" for c in value)


def as_event(value: object) -> Event | None:
    """``value`` as an :class:`Event` when it is a well-formed, correctly signed one, else None.

    Relays are not trusted: an event whose id or signature does not check out is
    dropped, so nobody can inflate counts by relaying forged reactions.
    """
    if not isinstance(value, dict):
        return None
    tags: list[Tag] = value.get("tags") or []
    fields_ok = (
        _is_hex(value.get("id"), 64)
        and _is_hex(value.get("pubkey"), 64)
        and _is_hex(value.get("sig"), 128)
        and isinstance(value.get("created_at"), int)
        and isinstance(value.get("kind"), int)
        and isinstance(value.get("content"), str)
        and isinstance(value.get("tags"), list)
        and all(isinstance(t, list) and all(isinstance(x, str) for x in t) for t in tags)
    )
    if not fields_ok:
        return None
    event = Event(
        id=value["id"],
        pubkey=value["pubkey"],
        created_at=value["created_at"],
        kind=value["kind"],
        tags=tags,
        content=value["content"],
        sig=value["sig"],
    )
    expected = event_id(event["pubkey"], event["created_at"], event["kind"], tags, event["content"])
    if expected != event["id"] or not verify(event["pubkey"], event["id"], event["sig"]):
        return None
    return event


def tag_values(event: Event, name: str) -> list[Tag]:
    """The tags of ``event`` named ``name`` that carry a value."""
    return [tag for tag in event["tags"] if len(tag) >= 2 and tag[0] == name and tag[1]]


def first_tag(event: Event, name: str) -> str | None:
    """The value of the first ``name`` tag, or None."""
    tags = tag_values(event, name)
    return tags[0][1] if tags else None
