"""Threads (Meta): text, image and carousel posts, threads of replies, counts, followers.

API pages used:

- Posts (two steps, limits): https://developers.facebook.com/docs/threads/posts
- Alt text: https://developers.facebook.com/docs/threads/posts/accessibility
- Text attachments and the link limit:
  https://developers.facebook.com/documentation/threads/create-posts/text-attachments
- Container status: https://developers.facebook.com/docs/threads/troubleshooting
- Replies (``reply_to_id``): https://developers.facebook.com/docs/threads/reply-management
- Insights: https://developers.facebook.com/docs/threads/insights
- Publishing limit, rate limits: https://developers.facebook.com/docs/threads/overview
- Long-lived tokens: https://developers.facebook.com/docs/threads/get-started/long-lived-tokens
- Errors: https://developers.facebook.com/docs/graph-api/guides/error-handling
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from connectors.base import (
    AccountMetrics,
    Capability,
    Extra,
    Limits,
    MediaItem,
    Metrics,
    Published,
    RenderedPost,
    ThreadPart,
)
from connectors.graph import count, insight_values, media_url_problems
from connectors.http import Kind
from connectors.threads.counting import MAX_LINKS, distinct_links, threads_length
from connectors.threads.doctor import ThreadsDoctor
from connectors.threads.settings import ThreadsSettings
from crosspost.rendering.markdown_forms import TextFormat

__all__ = ["MAX_LINKS", "ThreadsConnector", "ThreadsSettings", "threads_length"]

#: The post metrics asked for (``views`` is "in development" at Meta; ``shares`` kept in raw).
POST_METRICS = ("views", "likes", "replies", "reposts", "quotes", "shares")


class ThreadsConnector(ThreadsDoctor):
    """Publishes to one Threads profile through media containers."""

    name: ClassVar[str] = "threads"
    #: Plain text: Markdown links spelt out as ``text (url)``.
    text_format: ClassVar[TextFormat] = TextFormat.PLAIN
    docs_url: ClassVar[str] = "https://developers.facebook.com/docs/threads/posts"
    limits: ClassVar[Limits] = Limits(
        max_length=500,
        unit="characters (an emoji counts its UTF-8 bytes)",
        max_media=20,
        max_media_bytes=8 * 1024 * 1024,
        media_types=frozenset({"image/jpeg", "image/png"}),
    )
    capabilities: frozenset[Capability] = frozenset(
        {Capability.THREADS, Capability.MEDIA, Capability.RECONCILE, Capability.DELETE}
    )
    container_edge: ClassVar[str] = "threads"
    publish_edge: ClassVar[str] = "threads_publish"
    publish_permission: ClassVar[str] = "threads_content_publish"
    caption_field: ClassVar[str] = "text"
    #: ``status`` of ``GET /{container}``: IN_PROGRESS, FINISHED, ERROR, EXPIRED, PUBLISHED.
    container_status_field: ClassVar[str] = "status"
    container_error_field: ClassVar[str] = "error_message"

    Settings = ThreadsSettings

    # -- counting and checks --------------------------------------------------

    def measure(self, text: str) -> int:
        """Grapheme clusters, an emoji counting its UTF-8 bytes (Threads' own rule)."""
        return threads_length(text)

    def _check_media(self, post: RenderedPost, limits: Limits) -> list[str]:
        problems = super()._check_media(post, limits)
        return [*problems, *media_url_problems(self.settings.media_base_url, post, "Threads")]

    def _check_options(self, post: RenderedPost) -> list[str]:
        problems = []
        for number, part in enumerate(post.parts, start=1):
            attachment = post.link if number == 1 and not post.media else None
            links = distinct_links(part, attachment)
            if links > MAX_LINKS:
                label = f"part {number} has" if len(post.parts) > 1 else "the post has"
                problems.append(f"{label} {links} links (at most {MAX_LINKS} on Threads)")
        return problems

    # -- publishing -----------------------------------------------------------

    def _owner(self) -> str:
        return self.settings.user_id

    def _publish_part(self, post: RenderedPost, part: ThreadPart) -> Published:
        """Create the container (text, image or carousel), then publish it.

        A later part of a thread is a text reply to the part before (``reply_to_id``).
        """
        if part.index == 0 and post.media:
            return self._publish_container(self._media_container(post, part.text))
        fields = {"media_type": "TEXT", "text": part.text}
        needs = ""
        if part.reply_to is not None:
            fields["reply_to_id"] = part.reply_to.remote_id
            needs = f"{self.publish_permission} and threads_manage_replies"
        elif post.link:
            fields["link_attachment"] = post.link
        return self._publish_container(self._create_container(fields, needs))

    def _image_fields(self, item: MediaItem) -> dict[str, str]:
        return {"media_type": "IMAGE", **super()._image_fields(item)}

    # -- reading back ---------------------------------------------------------

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        """Views, likes, replies, reposts and quotes of each post (needs threads_manage_insights).

        Posts Threads does not know any more are left out.
        """
        found = self._insights(remote_ids, POST_METRICS, "threads_manage_insights")
        return {
            media_id: Metrics(
                likes=count(values, "likes"),
                reposts=count(values, "reposts"),
                replies=count(values, "replies"),
                quotes=count(values, "quotes"),
                views=count(values, "views"),
                raw=values,
            )
            for media_id, values in found.items()
        }

    def account_metrics(self) -> AccountMetrics:
        """Followers of the profile (``threads_insights?metric=followers_count``)."""
        body = self._object(
            "GET",
            f"{self.settings.user_id}/threads_insights",
            Kind.READ,
            params={"metric": "followers_count"},
            needs="threads_manage_insights",
        )
        values = insight_values(body)
        return AccountMetrics(followers=count(values, "followers_count"), raw=dict(values))

    def publishing_quota(self) -> tuple[int, int] | None:
        """``(posts published in the last 24 h, allowed)``: 250 a day, a carousel counting one."""
        return self._quota(f"{self._owner()}/threads_publishing_limit")

    def delete(self, remote_id: str, extra: Extra | None = None) -> None:
        """Delete one post (needs threads_delete); one already gone is fine."""
        self._call_or_missing("DELETE", remote_id, Kind.HARMLESS_WRITE, needs="threads_delete")
