"""What comes back across the connector boundary: publications, counts, inbox items.

Apart from :mod:`connectors.values` (what goes in), so that ``crosspost check``, which
builds connectors and checks posts but never publishes or reads back, does not define
these classes at every start (each frozen dataclass compiles six methods on Python 3.11).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from connectors.values import Extra

__all__ = [
    "AccountMetrics",
    "FollowerRef",
    "InboxItem",
    "InboxPage",
    "Metrics",
    "Published",
    "ThreadPart",
]


@dataclass(frozen=True)
class ThreadPart:
    """One post of a thread, as :meth:`BaseConnector._publish_part` sends it."""

    #: 0 for the first post, which carries media and poll.
    index: int
    text: str
    #: The post before this one; None for the first.
    reply_to: Published | None
    #: The first post of the thread; None for the first.
    root: Published | None
    #: The publication's key for the first post, ``<key>-<index>`` for later ones.
    idempotency_key: str


@dataclass(frozen=True)
class Published:
    """What the platform gave back for a successful publish."""

    remote_id: str
    url: str | None
    published_at: datetime
    #: Remote ids of every post of a thread, first included.
    thread_ids: tuple[str, ...] = ()
    #: Platform-specific references a reply needs (e.g. a Bluesky ``cid``).
    extra: Extra = field(default_factory=dict)
    #: Why a person should look anyway (some recipients refused it), kept with the publication.
    note: str | None = None


@dataclass(frozen=True)
class Metrics:
    """Reactions to one post at one moment; ``None`` where the platform has no such count."""

    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    quotes: int | None = None
    views: int | None = None
    bookmarks: int | None = None
    raw: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class AccountMetrics:
    """Audience figures of one account at one moment."""

    followers: int | None = None
    following: int | None = None
    posts: int | None = None
    members: int | None = None
    raw: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class InboxItem:
    """Something a member wrote to the account: a mention, a reply, a quote or a comment.

    ``in_reply_to`` is the remote id of the post it answers (or quotes), in the
    same form ``publish`` returns, so it can be matched to a publication.
    """

    remote_id: str
    kind: str  # mention | reply | quote | comment
    author: str
    author_id: str | None
    text: str
    url: str | None
    created_at: datetime
    in_reply_to: str | None = None
    raw: Mapping[str, object] = field(default_factory=dict)
    #: The platform marks it as a question (a Q&A thread, a question post type); the
    #: core also counts as questions texts that end in "?".
    question: bool = False


@dataclass(frozen=True)
class InboxPage:
    """What ``fetch_inbox`` read, and where to start next time (``None``: nothing new)."""

    items: tuple[InboxItem, ...]
    cursor: str | None


@dataclass(frozen=True)
class FollowerRef:
    """One follower of the account: a stable platform id and the handle shown for it."""

    id: str
    handle: str = ""
