"""What a publication renders to: one function for ``plan``, ``publish`` and the daemon.

``plan`` prints a sha256 of what would go out, ``publish`` hashes the rendered
text into its key, and the daemon sends it: all three build their :class:`Target`
here, so the three cannot drift apart.

Entries name what a publication is for: a ``posts:`` entry of the schedule,
``publish:<content id>`` for a one-off (``crosspost publish``), or
``notify:<problem>`` for a notification, whose message is stored in its row, or
``feed:<feed id>`` for the entries of a feed (their content is in the store).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from connectors.base import Connector, RenderedPost
from crosspost.loading.content_item import ContentItem
from crosspost.rendering.text import iter_graphemes
from crosspost.status import (
    COMMENT_PREFIX,
    FEED_PREFIX,
    NOTIFY_PREFIX,
    ONE_OFF_PREFIX,
    REPLY_PREFIX,
)

if TYPE_CHECKING:  # the store (SQLAlchemy) is not needed to build a target
    from crosspost.loading.project import Project  # it imports the renderer, which imports this
    from crosspost.store import Publication

__all__ = [
    "NOTIFICATION_CONTENT",
    "Target",
    "is_scheduled",
    "notification_post",
    "render_publication",
    "render_target",
    "target_for",
]

#: The content id recorded for notifications: they have no content item.
NOTIFICATION_CONTENT = "crosspost-notification"


@dataclass(frozen=True)
class Target:
    """Where and why a post is rendered: the account, and the schedule entry behind it."""

    account: str
    platform: str
    entry: str
    occurrence: datetime | None = None
    utm: bool = True
    thread: bool = True
    numbering: bool = False
    #: Where the article this target announces went out (a long-form post's URL), once
    #: known; an announcement links to the canonical URL first, then to this, then ``link``.
    article_url: str | None = None


def is_scheduled(entry: str) -> bool:
    """Whether ``entry`` comes from the schedule (not a one-off, notification, reply, feed
    post or first comment)."""
    return not entry.startswith(
        (ONE_OFF_PREFIX, NOTIFY_PREFIX, REPLY_PREFIX, FEED_PREFIX, COMMENT_PREFIX)
    )


def target_for(
    project: Project, entry: str, account: str, due_at: datetime, article_url: str | None = None
) -> Target:
    """The target of ``entry``'s publication for ``account`` due at ``due_at``.

    The occurrence is the due time in the entry's zone (the schedule's for a one-off);
    a one-off has the defaults of an entry (UTM tags, threads, no numbering).
    ``article_url`` is where the article an announcement points to went out.
    """
    post = project.post(entry)
    zone = post.timezone if post and post.timezone else project.schedule.timezone
    return Target(
        account=account,
        platform=project.accounts[account].platform,
        entry=entry.removeprefix(ONE_OFF_PREFIX),
        occurrence=due_at.astimezone(zone),
        utm=post.utm if post else True,
        thread=post.thread == "auto" if post else True,
        numbering=post.numbering if post else False,
        article_url=article_url,
    )


def render_target(
    project: Project,
    entry: str,
    account: str,
    due_at: datetime,
    item: ContentItem,
    article_url: str | None = None,
) -> RenderedPost:
    """``item`` rendered for :func:`target_for` of these values.

    Raises:
        RenderError: the template failed or ran into its bounds.
    """
    target = target_for(project, entry, account, due_at, article_url)
    return project.renderer.render(item, target, project.connector(account))


def render_publication(
    project: Project,
    row: Publication,
    item: ContentItem | None = None,
    article_url: str | None = None,
) -> RenderedPost:
    """The post a stored publication sends, rendered with the project's current content.

    ``article_url``: the long-form post an announcement links to (crosspost.rendering.articles).

    Raises:
        RenderError, ConfigError, KeyError: the content or template is broken or gone.
    """
    if row.message is not None:
        post = notification_post(row.message, project.connector(row.account))
        return replace(post, scheduled_at=row.due_at)
    # a one-off made from a file outside the library is rendered from that file again
    item = item or project.resolve_content(row.source or row.content_id)
    return render_target(project, row.entry, row.account, row.due_at, item, article_url)


def notification_post(message: str, connector: Connector) -> RenderedPost:
    """A notification as one post, cut to what the platform takes."""
    text = _clip(message, connector.effective_limits.max_length, connector.measure)
    return RenderedPost(parts=(text,), content_id=NOTIFICATION_CONTENT)


def _clip(text: str, limit: int, measure: Callable[[str], int]) -> str:
    if not limit or measure(text) <= limit:
        return text
    kept = ""
    for cluster in iter_graphemes(text):
        if measure(kept + cluster + "…") > limit:
            break
        kept += cluster
    return kept + "…"
