"""The ``accounts:`` entry of a feed account."""

# Annotations are not postponed (no ``from __future__ import annotations``): pydantic
# builds these models at import and would compile and evaluate each one from a string.
from pydantic import Field

from connectors.feed.files import FileSettings


class FeedSettings(FileSettings):
    """The ``accounts:`` entry of a feed.

    Attributes:
        path: the feed file; a relative path starts at the schedule's folder.
        title: the feed's ``<title>``.
        id: the feed's permanent IRI; ``urn:crosspost:feed:<account>`` by default.
        link: the web site the feed belongs to (``link rel="alternate"``).
        self_url: where the feed is served (``link rel="self"``), if anywhere.
        author: the feed's ``<author><name>``.
        max_entries: entries kept; the oldest are dropped.
        base_dir: set by the core to the schedule's folder, not by users.
    """

    title: str = Field(default="crosspost", min_length=1)
    id: str | None = Field(default=None, min_length=1)
    link: str | None = None
    self_url: str | None = None
    author: str = Field(default="crosspost", min_length=1)
    max_entries: int = Field(default=50, ge=1)
