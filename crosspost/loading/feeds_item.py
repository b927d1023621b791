"""A feed entry as content: what its template sees, and a sample entry for ``check``.

The entry's fields are the usual content variables (``title``, ``summary``,
``body`` — the summary as text —, ``link``, UTM-tagged like any link, ``raw_link``,
``tags``) plus ``image`` (an address: the image is linked, not attached),
``published`` (aware, in the feed's zone; None when the feed gives no date),
``author`` and ``feed`` (``id``, ``title``, ``url``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from crosspost.loading.content_item import ContentItem
from crosspost.loading.feeds_spec import FeedSpec
from crosspost.publishing.feeds_parse import ParsedEntry

__all__ = ["FeedEntryItem", "FeedView", "content_id", "entry_item", "markdown_literal", "sample"]

#: Characters Markdown would read as formatting, anywhere in a line.
_SPECIAL = re.compile(r"([\\`*_\[\]<>#~|&!])")
#: What makes a list, a quote, a heading or a rule where a line starts.
_LINE_START = re.compile(r"(?m)^(\s*)(\d*)([-+=>.)])")


def markdown_literal(text: str) -> str:
    """``text`` as Markdown that renders as exactly ``text`` (a feed's words, not markup)."""
    # A backslash escapes punctuation only, so an ordered list's "1." keeps its digits and
    # loses its dot's meaning: "1\." (CommonMark, backslash escapes).
    return _LINE_START.sub(r"\1\2\\\3", _SPECIAL.sub(r"\\\1", text))


class FeedView(BaseModel):
    """What templates see as ``feed``."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str = ""
    url: str


class FeedEntryItem(ContentItem):
    """The content of one feed entry, rendered with the feed's template."""

    feed: FeedView
    image: str | None = None
    published: datetime | None = None
    author: str = ""

    def template_variables(self) -> dict[str, Any]:
        """``feed``, ``image``, ``published``, ``author``."""
        return {
            "feed": self.feed,
            "image": self.image,
            "published": self.published,
            "author": self.author,
        }


def content_id(feed_id: str, key: str) -> str:
    """The content id of an entry's posts: ``<feed id>.<first 16 of its key>``."""
    return f"{feed_id}.{key[:16]}"


def entry_item(
    feed: FeedSpec, key: str, entry: ParsedEntry, zone: ZoneInfo, feed_title: str = ""
) -> FeedEntryItem:
    """The content item of the entry of ``feed`` remembered under ``key``."""
    text = markdown_literal(entry.summary)
    return FeedEntryItem(
        id=content_id(feed.id, key),
        title=entry.title,
        body=text,
        summary=text,
        link=entry.link,
        tags=list(entry.tags),
        template=feed.template,
        feed=FeedView(id=feed.id, title=feed_title, url=feed.url),
        image=entry.image,
        published=entry.published.astimezone(zone) if entry.published else None,
        author=entry.author,
    )


def sample(feed: FeedSpec, zone: ZoneInfo, now: datetime) -> FeedEntryItem:
    """An entry with every field filled, to render the feed's template before any fetch."""
    entry = ParsedEntry(
        guid="https://example.org/entry",
        title="An example entry",
        summary="What the entry says, as plain text.",
        link="https://example.org/entry",
        image="https://example.org/image.png",
        author="A. Writer",
        tags=("example",),
        published=now,
    )
    return entry_item(feed, "0" * 32, entry, zone, "An example feed")
