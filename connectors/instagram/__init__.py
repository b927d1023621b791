"""Instagram (professional accounts, Graph API): image and carousel posts, counts, followers.

API pages used:

- Content publishing (containers, carousels, ``alt_text`` since 2025-03-24, limits):
  https://developers.facebook.com/docs/instagram-platform/content-publishing/
- ``POST /{ig-user-id}/media`` (caption: 2,200 characters, 30 hashtags, 20 @ tags):
  https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media
- ``POST /{ig-user-id}/media_publish`` and ``GET /{ig-user-id}/content_publishing_limit``
- Container status (``status_code``):
  https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-container
- Comments (``POST /{ig-media-id}/comments``):
  https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-media/comments
- Media insights: https://developers.facebook.com/docs/instagram-platform/reference/instagram-media/insights
- Errors and rate limits: https://developers.facebook.com/docs/graph-api/guides/error-handling
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from connectors.base import (
    AccountMetrics,
    Capability,
    Limits,
    Metrics,
    Published,
    RenderedPost,
    ThreadPart,
)
from connectors.graph import (
    count,
    media_url_problems,
    number,
)
from connectors.http import Kind
from connectors.instagram.caption import MAX_CAPTION, caption_problems
from connectors.instagram.doctor import InstagramDoctor
from connectors.instagram.settings import InstagramSettings
from crosspost.rendering.markdown_forms import TextFormat
from crosspost.rendering.text import utf16_length
from crosspost.rendering.urls import UrlCounting

__all__ = ["InstagramConnector", "InstagramSettings"]

#: Media insights; ``impressions`` was retired in 2025 for ``views``.
MEDIA_INSIGHTS = ("views", "reach", "saved", "shares", "likes", "comments")
_HOSTS = {"facebook": "graph.facebook.com", "instagram": "graph.instagram.com"}


class InstagramConnector(InstagramDoctor):
    """Publishes images and carousels to one Instagram professional account."""

    name: ClassVar[str] = "instagram"
    #: Plain text: links are not clickable in a caption anyway.
    text_format: ClassVar[TextFormat] = TextFormat.PLAIN
    docs_url: ClassVar[str] = (
        "https://developers.facebook.com/docs/instagram-platform/content-publishing/"
    )
    limits: ClassVar[Limits] = Limits(
        max_length=MAX_CAPTION,
        unit="characters (UTF-16)",
        max_media=10,
        max_media_bytes=8 * 1024 * 1024,
        media_types=frozenset({"image/jpeg"}),
    )
    capabilities: frozenset[Capability] = frozenset({Capability.MEDIA, Capability.RECONCILE})
    container_edge: ClassVar[str] = "media"
    publish_edge: ClassVar[str] = "media_publish"
    publish_permission: ClassVar[str] = "instagram_content_publish"
    caption_field: ClassVar[str] = "caption"
    #: ``status_code`` of ``GET /{container}``: EXPIRED, ERROR, FINISHED, IN_PROGRESS, PUBLISHED;
    #: ``status`` says why when it failed.
    container_status_field: ClassVar[str] = "status_code"
    container_error_field: ClassVar[str] = "status"

    Settings = InstagramSettings

    def _api_root(self) -> str:
        return f"https://{_HOSTS[self.settings.login]}/{self.settings.version}"

    def _owner(self) -> str:
        return self.settings.ig_user_id

    def measure(self, text: str) -> int:
        """UTF-16 code units: Meta does not say its unit, so count the longer one."""
        return utf16_length(text)

    @property
    def url_counting(self) -> UrlCounting:
        """UTF-16 units: a URL counts its characters, like any text."""
        return UrlCounting()

    # -- checks ---------------------------------------------------------------

    def _check_media(self, post: RenderedPost, limits: Limits) -> list[str]:
        if not post.media:
            return ["Instagram needs at least one image (JPEG); a text-only post cannot go out"]
        problems = super()._check_media(post, limits)
        return [*problems, *media_url_problems(self.settings.media_base_url, post, "Instagram")]

    def _check_options(self, post: RenderedPost) -> list[str]:
        return caption_problems(post.text)

    # -- publishing -----------------------------------------------------------

    def _publish_part(self, post: RenderedPost, part: ThreadPart) -> Published:
        """An image (or a carousel of 2–10) with the caption, through a container."""
        return self._publish_container(self._media_container(post, part.text))

    def comment(self, remote_id: str, text: str) -> str:
        """Comment ``text`` on a published post (a first comment); the comment's id.

        ``POST /{ig-media-id}/comments`` is a publishing write: nothing stops a resend
        from commenting twice, so a lost answer is uncertain.

        Raises:
            AuthError, RateLimited, Rejected, Transient, Unknown.
        """
        kind = Kind.PUBLISHING_WRITE
        body = self._object(
            "POST",
            f"{remote_id}/comments",
            kind,
            data={"message": text},
            needs="instagram_manage_comments",
        )
        return self._id(body, kind, "comment")

    # -- reading back ---------------------------------------------------------

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        """Likes, comments, shares, saves and views of each post (reach in raw).

        Media Instagram does not know any more are left out.
        """
        found = self._insights(remote_ids, MEDIA_INSIGHTS, "instagram_manage_insights")
        return {
            media_id: Metrics(
                likes=count(values, "likes"),
                replies=count(values, "comments"),
                reposts=count(values, "shares"),
                views=count(values, "views"),
                bookmarks=count(values, "saved"),
                raw=values,
            )
            for media_id, values in found.items()
        }

    def account_metrics(self) -> AccountMetrics:
        """Followers, follows and posts of the account."""
        body = self._object(
            "GET",
            self._owner(),
            Kind.READ,
            params={"fields": "followers_count,follows_count,media_count"},
        )
        return AccountMetrics(
            followers=number(body.get("followers_count")),
            following=number(body.get("follows_count")),
            posts=number(body.get("media_count")),
            raw=body,
        )

    def publishing_quota(self) -> tuple[int, int] | None:
        """``(posts published in the last 24 h, allowed)`` from ``content_publishing_limit``."""
        return self._quota(f"{self._owner()}/content_publishing_limit")
