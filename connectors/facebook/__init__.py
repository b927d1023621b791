"""Facebook Pages (Graph API): posts with a link or photos, counts, views, followers.

API pages used:

- Page posts: https://developers.facebook.com/docs/pages-api/posts
- Page feed: https://developers.facebook.com/docs/graph-api/reference/page/feed
- Photos (``url`` or ``source``, ``published=false``, ``alt_text_custom``):
  https://developers.facebook.com/docs/graph-api/reference/photo/ and
  https://developers.facebook.com/docs/graph-api/reference/page/photos
- Post fields (reactions, comments and shares summaries):
  https://developers.facebook.com/docs/graph-api/reference/post
- Insights and deprecated metrics:
  https://developers.facebook.com/docs/graph-api/reference/insights and
  https://developers.facebook.com/docs/platforminsights/page/deprecated-metrics
- Errors and rate limits: https://developers.facebook.com/docs/graph-api/guides/error-handling,
  https://developers.facebook.com/docs/graph-api/overview/rate-limiting/
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from connectors.base import (
    Capability,
    Extra,
    Limits,
    MediaItem,
    Published,
    Rejected,
    RenderedPost,
    ThreadPart,
)
from connectors.facebook.doctor import FacebookDoctor
from connectors.facebook.replies import FacebookReplies
from connectors.facebook.settings import FacebookSettings
from connectors.http import Kind
from crosspost.rendering.markdown_forms import TextFormat
from crosspost.rendering.text import utf16_length
from crosspost.rendering.urls import UrlCounting

__all__ = ["FacebookConnector", "FacebookSettings"]

#: How far back ``find_recent`` looks for a post whose outcome is unknown.
RECENT_WINDOW = timedelta(days=2)


class FacebookConnector(FacebookReplies, FacebookDoctor):
    """Publishes to one Facebook Page with a Page access token."""

    name: ClassVar[str] = "facebook"
    #: Plain text: Markdown links spelt out as ``text (url)``.
    text_format: ClassVar[TextFormat] = TextFormat.PLAIN
    docs_url: ClassVar[str] = "https://developers.facebook.com/docs/pages-api/posts"
    limits: ClassVar[Limits] = Limits(
        max_length=63206,
        unit="characters (UTF-16)",
        max_media=10,
        # "less than 10 MB" for a photo (Photo reference)
        max_media_bytes=10 * 1000 * 1000 - 1,
        media_types=frozenset({"image/jpeg", "image/png", "image/gif", "image/bmp", "image/tiff"}),
    )
    capabilities: frozenset[Capability] = frozenset(
        {
            Capability.MEDIA,
            Capability.RECONCILE,
            Capability.DELETE,
            Capability.INBOX,
            Capability.REPLY,
        }
    )

    Settings = FacebookSettings

    def measure(self, text: str) -> int:
        """UTF-16 code units: Meta does not say its unit, so count the longer one."""
        return utf16_length(text)

    @property
    def url_counting(self) -> UrlCounting:
        """UTF-16 units: a URL counts its characters, like any text."""
        return UrlCounting()

    # -- publishing -----------------------------------------------------------

    def _publish_part(self, post: RenderedPost, part: ThreadPart) -> Published:
        """``POST /{page}/feed``: the message, and the photos (or else the link card).

        Photos are uploaded first as unpublished photos (nothing shows) and attached
        by id; the feed post is the one request that publishes.
        """
        body: dict[str, object] = {"message": part.text, "published": True}
        photos = [self._upload_photo(item) for item in post.media]
        if photos:
            body["attached_media"] = [{"media_fbid": photo} for photo in photos]
        elif post.link:
            body["link"] = post.link
        kind = Kind.PUBLISHING_WRITE
        page = self.settings.page_id
        answer = self._object("POST", f"{page}/feed", kind, json=body, needs="pages_manage_posts")
        post_id = self._id(answer, kind, "post")
        return Published(
            remote_id=post_id, url=_post_url(page, post_id), published_at=self.http.clock()
        )

    def _upload_photo(self, item: MediaItem) -> str:
        """``POST /{page}/photos`` with ``published=false``: the photo id, shown nowhere yet."""
        try:
            content = item.path.read_bytes()
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise self.error(Rejected, f"{item.path.name}: cannot be read ({reason})") from None
        fields = {"published": "false"}
        if item.alt:
            fields["alt_text_custom"] = item.alt
        kind = Kind.HARMLESS_WRITE
        answer = self._object(
            "POST",
            f"{self.settings.page_id}/photos",
            kind,
            data=fields,
            files={"source": (item.path.name, content, item.mime_type)},
            needs="pages_manage_posts",
        )
        return self._id(answer, kind, "photo")

    # -- reconciling and deleting ---------------------------------------------

    def find_recent(self, idempotency_key: str, text: str) -> Published | None:
        """The Page's post of the last two days whose message reads ``text``.

        Facebook takes no idempotency key; the message (and that it is recent) is the evidence.
        """
        return self._find_in_recent(
            f"{self.settings.page_id}/published_posts",
            text,
            ("message", "created_time", "permalink_url"),
            window=RECENT_WINDOW,
            params={"since": self._since(RECENT_WINDOW), "limit": "25"},
        )

    def delete(self, remote_id: str, extra: Extra | None = None) -> None:
        """Delete a Page post; one already gone is fine."""
        self._call_or_missing("DELETE", remote_id, Kind.HARMLESS_WRITE, needs="pages_manage_posts")


def _post_url(page_id: str, post_id: str) -> str:
    """``https://www.facebook.com/{page}/posts/{post}`` from a ``{page}_{post}`` id."""
    _page, _, post = post_id.partition("_")
    return f"https://www.facebook.com/{page_id}/posts/{post or post_id}"
