"""What a post carries besides its text: media, a poll, an article's fields and cover.

Part of :class:`~connectors.values.RenderedPost`; ``connectors.base`` and
``connectors.values`` import this module the first time one of its names is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

__all__ = ["ArticleFields", "Cover", "MediaItem", "Poll"]


@dataclass(frozen=True)
class MediaItem:
    """One file to attach, with the alt text that describes it."""

    path: Path
    alt: str = ""
    mime_type: str = "application/octet-stream"
    #: The path as the content wrote it, relative to the content ("" when written
    #: absolute): platforms that fetch media from the user's site build its URL from it.
    relative_path: str = ""


@dataclass(frozen=True)
class Poll:
    """A native poll attached to a post."""

    options: tuple[str, ...]
    duration: timedelta = timedelta(days=1)
    multiple: bool = False


@dataclass(frozen=True)
class Cover:
    """An article's cover image: a file to upload, a URL to point at, or both."""

    alt: str = ""
    path: Path | None = None
    url: str | None = None
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True)
class ArticleFields:
    """What a long-form platform takes besides the body of an article."""

    #: A sentence or two in plain text (a description, an excerpt).
    summary: str = ""
    #: Where the article lives first; copies elsewhere point search engines to it.
    canonical_url: str | None = None
    cover: Cover | None = None
    #: As written in the content (each platform normalises them its own way).
    tags: tuple[str, ...] = ()
