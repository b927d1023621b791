"""Articles: published whole on long-form platforms, announced with a link everywhere else.

A content item with ``kind: article`` goes out whole to accounts whose connector
declares ``Capability.LONG_FORM`` (title, body, cover, tags, canonical URL). Every
other account of the entry gets an announcement (``announcement_template``: title,
summary, link). The link of an announcement is, first found:

1. the article's ``canonical_url``: nothing to wait for;
2. the URL of the article on the entry's first long-form account (in ``to:`` order),
   once that publication of the same occurrence is ``published``: until then the
   announcement waits, ``planned``, looked at again every :data:`WAIT_POLL` (and at
   once when the long-form one is recorded), its grace counted from each look;
3. when that publication ended otherwise (``failed``, ``missed``, ``cancelled``,
   ``retracted``): the article's ``link``;
4. with no ``link`` either, the announcement fails, saying why.

``plan`` and ``check`` cannot know the URL of a post that has not gone out: they
render such an announcement with :func:`stand_in_url`; the publisher looks the link up
with :func:`crosspost.publishing.posts.article_link`. docs/articles.md has the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from connectors.base import Capability, Connector
from crosspost.loading.content_item import ContentItem
from crosspost.loading.project import Project

__all__ = [
    "WAIT_POLL",
    "is_long_form",
    "long_form_source",
    "stand_in_url",
]

#: How often a waiting announcement looks whether its article went out.
WAIT_POLL = timedelta(minutes=1)


def is_long_form(connector: Connector) -> bool:
    """Whether ``connector`` publishes articles whole (``Capability.LONG_FORM``)."""
    return Capability.LONG_FORM in connector.capabilities


def long_form_source(
    project: Project,
    entry: str,
    account: str,
    item: ContentItem,
    accounts: Sequence[str] | None = None,
) -> str | None:
    """The account whose article URL the announcement of ``item`` on ``account`` links to.

    ``accounts`` are the targets in order (the entry's ``to:`` by default). None when
    there is nothing to wait for: not an article, an article with a canonical URL,
    an account that takes the article whole, or no long-form account among the targets.
    """
    if not item.is_article or item.canonical_url:
        return None
    if is_long_form(project.connector(account)):
        return None
    for other in project.targets.get(entry, ()) if accounts is None else accounts:
        if other != account and is_long_form(project.connector(other)):
            return other
    return None


def stand_in_url(account: str) -> str:
    """What ``plan`` and ``check`` show for the URL of an article not out yet on ``account``."""
    return f"https://{account}.invalid/article"
