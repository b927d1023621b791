"""Which of our posts an event answers, and the counts and inbox items that follow.

- A reaction (kind 7, NIP-25) is to the event of its *last* ``e`` tag; ``-`` is a
  dislike, anything else (``+``, empty, an emoji) counts as a like.
- A repost (kind 6 or 16, NIP-18) reposts the event of its first ``e`` tag.
- A note (kind 1) replies to the ``e`` tag marked ``reply``, else the one marked
  ``root`` (NIP-10); unmarked tags are the old positional form: the last is the
  parent. A ``q`` tag makes it a quote (NIP-18).

Likes and reposts count people (one per author), replies and quotes count events;
our own events (the later parts of our threads) never count.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from connectors.base import InboxItem, Metrics
from connectors.nostr.events import GENERIC_REPOST, NOTE, REACTION, REPOST, Event, tag_values
from connectors.nostr.keys import note_id, npub

__all__ = ["count", "inbox_item", "parent_of", "uri"]


def uri(event_id: str) -> str:
    """The NIP-21 URI of an event, which Nostr clients open: ``nostr:note1…``."""
    return f"nostr:{note_id(event_id)}"


def parent_of(event: Event) -> str | None:
    """The event a note replies to (NIP-10), or None when it starts a thread."""
    e_tags = [tag for tag in tag_values(event, "e") if len(tag) < 4 or tag[3] != "mention"]
    marked = {tag[3]: tag[1] for tag in e_tags if len(tag) >= 4 and tag[3] in ("root", "reply")}
    if marked:
        return marked.get("reply") or marked.get("root")
    return e_tags[-1][1] if e_tags else None


def _quoted(event: Event) -> str | None:
    tags = tag_values(event, "q")
    return tags[0][1] if tags else None


def _subject(event: Event) -> tuple[str, str | None]:
    """What ``event`` does (like, dislike, repost, reply, quote, other) and to which id."""
    kind, e_tags = event["kind"], tag_values(event, "e")
    if kind == REACTION:
        what = "dislike" if event["content"] == "-" else "like"
        return what, e_tags[-1][1] if e_tags else None
    if kind in (REPOST, GENERIC_REPOST):
        return "repost", e_tags[0][1] if e_tags else None
    if kind == NOTE:
        parent = parent_of(event)
        if parent is not None:
            return "reply", parent
        return "quote", _quoted(event)
    return "other", None


def count(events: Iterable[Event], ids: Iterable[str], own_pubkey: str) -> dict[str, Metrics]:
    """Metrics for each of ``ids`` from the reactions, reposts, replies and quotes seen."""
    wanted = set(ids)
    people: dict[tuple[str, str], set[str]] = {}
    numbers: dict[tuple[str, str], int] = {}
    for event in events:
        if event["pubkey"] == own_pubkey:
            continue
        what, target = _subject(event)
        if target not in wanted or target is None:
            continue
        people.setdefault((target, what), set()).add(event["pubkey"])
        numbers[(target, what)] = numbers.get((target, what), 0) + 1
    # a reply that also quotes is a reply; quotes are notes that only quote
    result = {}
    for target in wanted:
        likes = len(people.get((target, "like"), ()))
        dislikes = len(people.get((target, "dislike"), ()))
        reposts = len(people.get((target, "repost"), ()))
        replies = numbers.get((target, "reply"), 0)
        quotes = numbers.get((target, "quote"), 0)
        raw = {"likes": likes, "dislikes": dislikes, "reposts": reposts}
        raw.update({"replies": replies, "quotes": quotes})
        result[target] = Metrics(
            likes=likes, reposts=reposts, replies=replies, quotes=quotes, raw=raw
        )
    return result


def inbox_item(event: Event, own_pubkey: str) -> InboxItem | None:
    """A member's note that mentions, answers or quotes us; None for our own notes."""
    if event["kind"] != NOTE or event["pubkey"] == own_pubkey:
        return None
    parent, quoted = parent_of(event), _quoted(event)
    kind = "reply" if parent else "quote" if quoted else "mention"
    return InboxItem(
        remote_id=event["id"],
        kind=kind,
        author=npub(event["pubkey"]),
        author_id=event["pubkey"],
        text=event["content"],
        url=uri(event["id"]),
        created_at=datetime.fromtimestamp(event["created_at"], UTC),
        in_reply_to=parent or quoted,
        raw={"kind": event["kind"], "tags": event["tags"]},
    )
