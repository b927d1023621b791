"""WordPress (self-hosted): posts through the REST API with an application password.

API pages used:

- https://developer.wordpress.org/rest-api/using-the-rest-api/authentication/
  (application passwords, Basic auth)
- https://developer.wordpress.org/rest-api/reference/posts/ (create, list with
  ``context=edit``, delete to the trash)
- https://developer.wordpress.org/rest-api/reference/media/ (raw upload with
  ``Content-Disposition``, then ``alt_text``)
- https://developer.wordpress.org/rest-api/reference/tags/ and /categories/
- https://developer.wordpress.org/rest-api/reference/comments/ (``post``, ``orderby``)
- https://developer.wordpress.org/rest-api/using-the-rest-api/pagination/ (``X-WP-Total``)

WordPress takes no idempotency key: a publish whose answer is lost is ``Unknown`` and
is looked for among the site's recent posts (``find_recent``). Comments are member-
written content, read through the inbox. docs/connectors/wordpress.md says more.
"""

from __future__ import annotations

import base64
from typing import ClassVar

from connectors.base import (
    Capability,
    Limits,
    Published,
    RenderedPost,
)
from connectors.http import HttpClient, Kind
from connectors.longform import Remembering, first_line, parse_timestamp
from connectors.wordpress.api import PostBody, Wanted, describe, to_published
from connectors.wordpress.doctor import WordPressDoctor
from connectors.wordpress.library import WordPressLibrary
from connectors.wordpress.settings import WordPressSettings
from crosspost.rendering.markdown_forms import BLOCK_HTML_TAGS, TextFormat
from crosspost.rendering.markup import visible_text

__all__ = ["WordPressConnector", "WordPressSettings"]

STATUSES = frozenset({"publish", "future", "draft", "pending", "private"})


class WordPressConnector(WordPressDoctor, WordPressLibrary, Remembering[WordPressSettings, Wanted]):
    """Publishes posts (articles) to one WordPress site."""

    name: ClassVar[str] = "wordpress"
    #: Post content is HTML (the block editor shows it as a Classic block).
    text_format: ClassVar[TextFormat] = TextFormat.HTML
    html_tags: ClassVar[frozenset[str]] = BLOCK_HTML_TAGS
    docs_url: ClassVar[str] = "https://developer.wordpress.org/rest-api/reference/posts/"
    #: WordPress documents no length limit; this bounds a runaway template, not an article.
    limits: ClassVar[Limits] = Limits(max_length=1_000_000, unit="characters")
    capabilities: frozenset[Capability] = frozenset(
        {Capability.LONG_FORM, Capability.RECONCILE, Capability.DELETE, Capability.INBOX}
    )

    Settings = WordPressSettings

    def _make_client(self) -> HttpClient:
        password = self.settings.application_password.get_secret_value()
        client = HttpClient(
            self.name,
            self.account,
            base_url=f"{self.settings.url}/wp-json",
            secrets=[password, "".join(password.split())],
            describe=describe,
            classify=self.classify,
        )
        client.session.auth = (self.settings.username, password)
        # the Basic header carries the password in base64: mask that form too
        client.add_secret(_basic(self.settings.username, password))
        return client

    # -- checks ---------------------------------------------------------------

    def measure(self, text: str) -> int:
        """Characters of the HTML as sent."""
        return len(text)

    def _check_options(self, post: RenderedPost) -> list[str]:
        problems = []
        status = post.options.get("status", self.settings.status)
        if status not in STATUSES:
            problems.append(f"status {status!r} is not one of {', '.join(sorted(STATUSES))}")
        if status == "future" and parse_timestamp(post.options.get("date_gmt")) is None:
            problems.append("status future needs date_gmt: the UTC time to publish at")
        categories = post.options.get("categories", [])
        if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
            problems.append("categories must be a list of names")
        cover = post.article.cover if post.article else None
        if cover is not None and cover.path is None:
            problems.append("WordPress takes a featured image only as an upload: add cover.path")
        return problems

    # -- publishing -----------------------------------------------------------

    def _publish(self, post: RenderedPost, idempotency_key: str) -> Published:
        """Terms and featured image first (harmless), then ``POST /wp/v2/posts``.

        Raises:
            AuthError, RateLimited, Rejected, Transient, Unknown.
        """
        body = self._post_body(post)
        self._sent[idempotency_key] = Wanted(body["title"], body["content"])
        kind = Kind.PUBLISHING_WRITE
        response = self.http.request("POST", "/wp/v2/posts", kind=kind, json=body)
        published = to_published(self.http.json_object(response, kind))
        if published is None:
            raise self.http.unreadable("WordPress answered without the post's id", kind)
        return published

    def _post_body(self, post: RenderedPost) -> PostBody:
        options = post.options
        body: PostBody = {
            "title": first_line(post, visible_text),
            "content": "\n".join(post.parts),
            "status": str(options.get("status", self.settings.status)),
        }
        if body["status"] == "future":
            body["date_gmt"] = str(options["date_gmt"])
        names = options.get("categories", self.settings.categories)
        if names:
            listed = [str(n) for n in names] if isinstance(names, list) else [str(names)]
            body["categories"] = self.term_ids("categories", listed)
        article = post.article
        if article is None:
            return body
        if article.summary:
            body["excerpt"] = article.summary
        if article.tags:
            body["tags"] = self.term_ids("tags", article.tags)
        if article.cover is not None:
            body["featured_media"] = self.featured_media(article.cover)
        return body

    def find_recent(self, idempotency_key: str, text: str) -> Published | None:
        """The newest of the site's last 20 posts (any status) that this key (or ``text``) made.

        Matched by title and visible text in the process that sent it, by the text in
        a later one.

        Raises:
            AuthError, RateLimited, Transient.
        """
        return self.find_post(self._sent.get(idempotency_key) or Wanted("", text))


def _basic(username: str, password: str) -> str:
    """The credentials as the ``Authorization: Basic`` header carries them."""
    # requests encodes Basic credentials as Latin-1 when it can
    raw = f"{username}:{password}"
    try:
        data = raw.encode("latin-1")
    except UnicodeEncodeError:
        data = raw.encode("utf-8")
    return base64.b64encode(data).decode("ascii")
