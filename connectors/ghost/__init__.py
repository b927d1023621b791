"""Ghost: articles as posts through the Admin API, with cover, tags, excerpt and email.

API pages used:

- https://docs.ghost.org/admin-api/#token-authentication (the HS256 token, ``kid``,
  ``aud: /admin/``, ``Authorization: Ghost <token>``, ``Accept-Version``)
- https://docs.ghost.org/admin-api/posts/creating-a-post (``?source=html``, tags,
  ``feature_image``, ``custom_excerpt``, ``canonical_url``, ``status``, ``published_at``)
- https://docs.ghost.org/admin-api/posts/sending-a-post (``newsletter``, ``email_segment``)
- https://docs.ghost.org/admin-api/images/uploading-an-image
- https://docs.ghost.org/admin-api/posts/deleting-a-post
- https://docs.ghost.org/admin-api/members/ (``meta.pagination.total``)

Ghost takes no idempotency key: a publish whose answer is lost is ``Unknown`` and is
looked for among the site's recent posts (``find_recent``). docs/connectors/ghost.md.
"""

from __future__ import annotations

from typing import ClassVar

from connectors.base import (
    Capability,
    Cover,
    Limits,
    Published,
    RenderedPost,
)
from connectors.ghost.api import (
    EXCERPT_MAX,
    IMAGE_ALT_MAX,
    TITLE_MAX,
    PostBody,
    Wanted,
    cut,
    describe,
    first_post,
    to_published,
)
from connectors.ghost.doctor import GhostDoctor
from connectors.ghost.settings import GhostSettings
from connectors.http import HttpClient, Kind
from connectors.longform import Remembering, first_line, parse_timestamp, read_upload
from crosspost.rendering.markdown_forms import BLOCK_HTML_TAGS, TextFormat
from crosspost.rendering.markup import visible_text
from crosspost.rendering.text import grapheme_length

__all__ = ["GhostConnector", "GhostSettings"]

#: The Admin API version the connector was written against (Ghost 5 and 6).
API_VERSION = "v5.0"
STATUSES = frozenset({"published", "draft", "scheduled"})
VISIBILITIES = frozenset({"public", "members", "paid", "tiers"})


class GhostConnector(GhostDoctor, Remembering[GhostSettings, Wanted]):
    """Publishes posts (articles) to one Ghost site."""

    name: ClassVar[str] = "ghost"
    #: Ghost stores its own editor format; HTML is converted on the way in (?source=html).
    text_format: ClassVar[TextFormat] = TextFormat.HTML
    html_tags: ClassVar[frozenset[str]] = BLOCK_HTML_TAGS
    docs_url: ClassVar[str] = "https://docs.ghost.org/admin-api/"
    #: Ghost documents no length limit; this bounds a runaway template, not an article.
    limits: ClassVar[Limits] = Limits(max_length=1_000_000, unit="characters")
    capabilities: frozenset[Capability] = frozenset(
        {Capability.LONG_FORM, Capability.RECONCILE, Capability.DELETE}
    )

    Settings = GhostSettings

    def _make_client(self) -> HttpClient:
        key = self.settings.admin_api_key.get_secret_value()
        return HttpClient(
            self.name,
            self.account,
            base_url=f"{self.settings.url}/ghost/api/admin",
            headers={"Accept-Version": API_VERSION},
            secrets=[key, self.settings.key_parts[1]],
            describe=describe,
            classify=self.classify,
        )

    # -- checks ---------------------------------------------------------------

    def measure(self, text: str) -> int:
        """Characters of the HTML as sent."""
        return len(text)

    def _check_options(self, post: RenderedPost) -> list[str]:
        problems = []
        title = first_line(post, visible_text)
        if grapheme_length(title) > TITLE_MAX:
            problems.append(f"title is longer than {TITLE_MAX} characters (Ghost's limit)")
        options = post.options
        status = options.get("status", self.settings.status)
        if status not in STATUSES:
            problems.append(f"status {status!r} is not one of {', '.join(sorted(STATUSES))}")
        if status == "scheduled" and parse_timestamp(options.get("published_at")) is None:
            problems.append("status scheduled needs published_at: an ISO 8601 time")
        visibility = options.get("visibility")
        if visibility is not None and visibility not in VISIBILITIES:
            allowed = ", ".join(sorted(VISIBILITIES))
            problems.append(f"visibility {visibility!r} is not one of {allowed}")
        return problems

    # -- publishing -----------------------------------------------------------

    def _publish(self, post: RenderedPost, idempotency_key: str) -> Published:
        """The cover uploaded, then ``POST /posts/?source=html`` (and the newsletter).

        Raises:
            AuthError, RateLimited, Rejected, Transient, Unknown.
        """
        body = self._post_body(post)
        canonical = post.article.canonical_url if post.article else None
        self._sent[idempotency_key] = Wanted(body["title"], body["html"], canonical)
        kind = Kind.PUBLISHING_WRITE
        response = self._call(
            "POST", "/posts/", kind, params=self._query(post, body), json={"posts": [body]}
        )
        found = first_post(self.http.json(response, kind))
        published = to_published(found) if found is not None else None
        if published is None:
            raise self.http.unreadable("Ghost answered without the post's id", kind)
        return published

    def _post_body(self, post: RenderedPost) -> PostBody:
        options = post.options
        body: PostBody = {
            "title": first_line(post, visible_text),
            "html": "\n".join(post.parts),
            "status": str(options.get("status", self.settings.status)),
        }
        if body["status"] == "scheduled":
            body["published_at"] = str(options["published_at"])
        if options.get("visibility"):
            body["visibility"] = str(options["visibility"])
        article = post.article
        if article is None:
            return body
        if article.tags:
            body["tags"] = [{"name": tag} for tag in dict.fromkeys(article.tags)]
        if article.summary:
            body["custom_excerpt"] = cut(article.summary, EXCERPT_MAX)
        if article.canonical_url:
            body["canonical_url"] = article.canonical_url
        if article.cover is not None:
            body["feature_image"] = self._cover_url(article.cover)
            if article.cover.alt:
                body["feature_image_alt"] = cut(article.cover.alt, IMAGE_ALT_MAX)
        return body

    def _query(self, post: RenderedPost, body: PostBody) -> dict[str, str]:
        """``source=html``, and the newsletter to email a post that goes out."""
        query = {"source": "html"}
        newsletter = post.options.get("newsletter", self.settings.newsletter)
        if newsletter and body["status"] != "draft":
            query["newsletter"] = str(newsletter)
            segment = post.options.get("email_segment", self.settings.email_segment)
            query["email_segment"] = str(segment)
        return query

    def _cover_url(self, cover: Cover) -> str:
        """The cover's address: its file uploaded to the site, else its URL."""
        if cover.path is None:
            return cover.url or ""
        content = read_upload(self, cover.path)
        # An image nobody links to yet: uploading it again is harmless.
        kind = Kind.HARMLESS_WRITE
        response = self._call(
            "POST",
            "/images/upload/",
            kind,
            files={"file": (cover.path.name, content, cover.mime_type)},
            data={"ref": cover.path.name},
        )
        images = self.http.json_object(response, kind).get("images")
        first = images[0] if isinstance(images, list) and images else None
        url = first.get("url") if isinstance(first, dict) else None
        if not isinstance(url, str) or not url:
            raise self.http.unreadable(f"{cover.path.name}: the upload answer has no url", kind)
        return url

    def find_recent(self, idempotency_key: str, text: str) -> Published | None:
        """The newest of the site's last 25 posts that this key (or ``text``) made.

        Matched by canonical URL and title, or by title and visible text (Ghost rewrites
        the HTML it is given); only the text is known to another process.

        Raises:
            AuthError, RateLimited, Transient.
        """
        return self.find_post(self._sent.get(idempotency_key) or Wanted("", text))
