"""The values that cross the connector boundary inward: posts, their parts and limits.

What a post carries besides its text (media, a poll, an article's fields and cover) is in
:mod:`connectors.attachments`, imported when first named here: ``crosspost check`` of a
project without media, polls or articles never makes one, and on Python 3.11 each frozen
dataclass compiles six methods at import. What comes back (publications, counts, inbox
items) is in :mod:`connectors.results`.
"""

from __future__ import annotations

import enum
import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crosspost.rendering.markdown_forms import LinkSpan

if TYPE_CHECKING:
    from connectors.attachments import ArticleFields, MediaItem, Poll

__all__ = [
    "STANDARD_CAPABILITIES",
    "Capability",
    "Extra",
    "Limits",
    "RenderedPost",
]

#: The names of :mod:`connectors.attachments` this module still answers to.
_ATTACHMENTS = frozenset({"ArticleFields", "Cover", "MediaItem", "Poll"})


def __getattr__(name: str) -> object:
    """An attachment, imported from :mod:`connectors.attachments` when first named (PEP 562)."""
    if name not in _ATTACHMENTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module("connectors.attachments"), name)


#: What a connector put in ``Published.extra``, kept with the publication and given back.
#: Each connector knows the shape of its own; to the core it is opaque JSON.
Extra = Mapping[str, Any]


class Capability(enum.StrEnum):
    """Optional abilities a connector declares instead of letting callers guess."""

    #: Long text can be published as a chain of replies.
    THREADS = "threads"
    #: Native polls.
    POLLS = "polls"
    #: Images with alt text.
    MEDIA = "media"
    #: The platform takes an idempotency key, so a resend cannot duplicate.
    IDEMPOTENCY_KEY = "idempotency_key"
    #: ``find_recent`` can tell whether an uncertain publish went through.
    RECONCILE = "reconcile"
    #: Mentions and replies can be read back (member-written content).
    INBOX = "inbox"
    #: The platform pushes word of new mentions as they happen (a streaming API), so the
    #: inbox is read at once instead of at its next poll (:class:`InboxStream`).
    INBOX_STREAM = "inbox_stream"
    #: The follower list can be read, so joins and leaves are exact.
    FOLLOWER_LIST = "follower_list"
    #: Published posts can be deleted (`crosspost retract`).
    DELETE = "delete"
    #: Inbox items can be answered in their thread (`crosspost reply`).
    REPLY = "reply"
    #: A publication goes out in steps (one message per recipient) that the connector
    #: records in the store as it goes (:class:`Resumable`): an interrupted one resumes
    #: where it stopped, and no step that may have gone out is sent again.
    RESUMABLE = "resumable"
    #: A first comment can be posted under a published post (``publish_comment``).
    FIRST_COMMENT = "first_comment"
    #: Long-form: an article (``kind: article``) goes out whole, with its title, cover
    #: and tags; elsewhere an article is announced (summary and link).
    LONG_FORM = "long_form"


#: Threads, media, reconciliation and deletion: what most platforms offer. A manifest
#: adds to it (``STANDARD_CAPABILITIES | {Capability.POLLS}``) or leaves it out.
STANDARD_CAPABILITIES: frozenset[Capability] = frozenset(
    {Capability.THREADS, Capability.MEDIA, Capability.RECONCILE, Capability.DELETE}
)


@dataclass(frozen=True)
class Limits:
    """What a platform accepts, as the connector counts it.

    ``max_length`` is in the unit named by ``unit``; the connector's
    ``measure()`` applies the platform's own counting rules.
    """

    max_length: int
    unit: str = "characters"
    max_media: int = 0
    max_media_bytes: int = 0
    media_types: frozenset[str] = frozenset()
    alt_text_max: int = 0
    alt_text_required: bool = False
    max_poll_options: int = 0
    max_poll_option_length: int = 0
    #: Length limit of text attached to media (Telegram captions), 0 = same.
    max_caption_length: int = 0


@dataclass(frozen=True)
class RenderedPost:
    """One post, rendered for one platform, ready to send.

    ``parts`` holds the text of every post of a thread in order; a plain post
    has one part. Media and the poll go with the first part.
    """

    parts: tuple[str, ...]
    content_id: str = ""
    title: str = ""
    link: str | None = None
    media: tuple[MediaItem, ...] = ()
    poll: Poll | None = None
    content_warning: str = ""
    language: str | None = None
    #: Per-platform options from the content's overrides (visibility, …).
    options: Mapping[str, object] = field(default_factory=dict)
    #: Links over each part's text, for connectors whose ``text_format`` is rich text;
    #: empty otherwise (and when the text has no Markdown links).
    links: tuple[tuple[LinkSpan, ...], ...] = ()
    #: When the publication is due (the same for every attempt of it), if known.
    #: Platforms whose post id is derived from its time (a Nostr event's ``created_at``)
    #: use it, so that a resend is the same post.
    scheduled_at: datetime | None = None
    #: The whole text once more in the connector's ``alternative_format`` (an e-mail's
    #: plain-text part beside its HTML); empty when the connector declares none.
    alternative: str = ""
    #: The content's tags as written (``#`` not added), for connectors that send them apart.
    tags: tuple[str, ...] = ()
    #: Set when the post is a whole article for a long-form platform (``title`` is its
    #: title, ``text`` its body); None for posts and for announcements of an article.
    article: ArticleFields | None = None

    @property
    def text(self) -> str:
        """The text of the first (or only) post."""
        return self.parts[0] if self.parts else ""
