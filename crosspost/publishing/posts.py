"""The post a publication sends, and the content and article it is made of.

Each reads the project and the store as they are now, so a reload is seen at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.base import RenderedPost
from crosspost.errors import ConfigError
from crosspost.loading.content_item import ContentItem
from crosspost.loading.project import Project
from crosspost.publishing.comments import is_comment, parent_entry, render_comment
from crosspost.publishing.feeds import publication_item
from crosspost.publishing.replies import is_reply, reply_row_post
from crosspost.rendering.articles import is_long_form, long_form_source
from crosspost.rendering.target import render_publication
from crosspost.status import FEED_PREFIX, UNSETTLED, Status
from crosspost.store import Publication, Store

__all__ = ["ArticleLink", "announces", "article_link", "awaited", "content", "render"]


@dataclass(frozen=True)
class ArticleLink:
    """What an announcement links to, or why it cannot go out now."""

    #: The long-form post's URL; None: the renderer's own choice (canonical URL, link).
    url: str | None = None
    #: The long-form account whose publication is not settled yet.
    waits_for: str | None = None
    #: Why it waits, or why there is nothing to link to (then it fails).
    reason: str | None = None

    @property
    def missing(self) -> bool:
        """Nothing to link to: the announcement cannot go out."""
        return self.reason is not None and self.waits_for is None


def _announcement_link(
    project: Project, store: Store, row: Publication, item: ContentItem
) -> ArticleLink:
    """What the announcement ``row`` of ``item`` links to, now (the rules are those of
    :mod:`crosspost.rendering.articles`)."""
    source = long_form_source(project, row.entry, row.account, item)
    if source is None:
        return ArticleLink()
    other = store.find(row.entry, row.occurrence, source)
    if other is not None and other.status in UNSETTLED:
        why = f"waiting for {source} to publish the article: the announcement links to it"
        return ArticleLink(waits_for=source, reason=why)
    if other is not None and other.status == Status.PUBLISHED and other.url:
        return ArticleLink(url=other.url)
    if item.link:
        return ArticleLink()
    what = f"it is {other.status}: {other.error}" if other is not None else "it was never planned"
    return ArticleLink(
        reason=f"nothing to link to: the article did not go out on {source} ({what}), "
        "and it has no canonical_url or link to announce instead"
    )


def render(
    project: Project,
    store: Store,
    row: Publication,
    item: ContentItem | None = None,
    link: ArticleLink | None = None,
) -> RenderedPost:
    """The post a publication sends (:func:`crosspost.rendering.target.render_publication`).

    ``link``: what an announcement links to, when the caller looked it up already.

    Raises:
        RenderError, ConfigError, KeyError: the content or template is broken or gone.
    """
    if is_comment(row.entry):
        parent = store.find(parent_entry(row.entry), row.occurrence, row.account)
        if parent is None:
            raise KeyError(f"the post of {row.entry} is gone")
        return render_comment(project, row, parent)
    if is_reply(row.entry):
        return reply_row_post(store, project.connector(row.account), row)
    if item is None and row.entry.startswith(FEED_PREFIX):
        item = publication_item(store, project, row)  # its entry is in the store
    url = (link or article_link(project, store, row, item)).url
    return render_publication(project, row, item, url)


def article_link(
    project: Project, store: Store, row: Publication, item: ContentItem | None = None
) -> ArticleLink:
    """What an announcement of an article links to now (:mod:`crosspost.rendering.articles`).

    Raises:
        ConfigError, KeyError: the content is gone.
    """
    if is_reply(row.entry) or (item is None and row.entry.startswith(FEED_PREFIX)):
        return ArticleLink()  # an answer to a member, a feed's entry: never an article
    item = item or content(project, row)
    if item is None:
        return ArticleLink()
    return _announcement_link(project, store, row, item)


def content(project: Project, row: Publication) -> ContentItem | None:
    """The content a publication renders; None for a notification (it has none)."""
    if row.message is not None:
        return None
    return project.resolve_content(row.source or row.content_id)


def announces(project: Project, row: Publication) -> bool:
    """Whether ``row`` may link to another row's article (so it goes after it)."""
    try:
        item = content(project, row)
    except (ConfigError, KeyError):
        return False
    return item is not None and long_form_source(project, row.entry, row.account, item) is not None


def awaited(project: Project, account: str) -> bool:
    """Whether announcements may wait for ``account``'s posts (it takes articles)."""
    return account in project.accounts and is_long_form(project.connector(account))
