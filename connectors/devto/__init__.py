"""dev.to (and other Forem sites): articles in Markdown, with tags, cover and canonical URL.

API pages used:

- https://developers.forem.com/api/v1#tag/articles/operation/createArticle
  (``POST /api/articles``, the ``api-key`` header, ``Accept: application/vnd.forem.api-v1+json``)
- https://developers.forem.com/api/v1#tag/articles/operation/getUserAllArticles
  (``GET /api/articles/me/all``: drafts included, ``page_views_count``)
- https://developers.forem.com/api/v1#tag/articles/operation/getArticleById
- https://developers.forem.com/api/v1#tag/articles/operation/updateArticle (unpublishing)
- https://developers.forem.com/api/v1#tag/followers/operation/getFollowers
- Forem's source, app/models/article.rb and app/policies/article_policy.rb: the limits
  and the uniqueness rules the API enforces but does not document (see ``api.py``)

Forem takes no idempotency key. A publish whose answer is lost is ``Unknown`` and is
looked for in the account's own articles (``find_recent``); a resend that did land is
refused with 422 "has already been taken" (the canonical URL is unique on the site,
the body unique per title and author), and that refusal is answered with the article
found there. docs/connectors/devto.md says more.
"""

from __future__ import annotations

from typing import ClassVar

from connectors.base import (
    Capability,
    Limits,
    Published,
    Rejected,
    RenderedPost,
)
from connectors.devto.api import (
    ALREADY_TAKEN,
    BODY_MAX_BYTES,
    ArticleBody,
    Wanted,
    forem_tags,
    title_problem,
    to_published,
)
from connectors.devto.doctor import DevtoDoctor
from connectors.devto.settings import DevtoSettings
from connectors.http import HttpClient, Kind
from connectors.longform import Remembering, first_line
from crosspost.rendering.markdown_forms import TextFormat
from crosspost.rendering.text import utf8_length
from crosspost.rendering.urls import UrlCounting

__all__ = ["DevtoConnector", "DevtoSettings", "forem_tags"]

#: Forem's versioned API answers only with this ``Accept``.
ACCEPT = "application/vnd.forem.api-v1+json"


class DevtoConnector(DevtoDoctor, Remembering[DevtoSettings, Wanted]):
    """Publishes articles to one dev.to account (or another Forem site)."""

    name: ClassVar[str] = "devto"
    #: Forem renders the Markdown itself: the body goes as written.
    text_format: ClassVar[TextFormat] = TextFormat.MARKDOWN
    docs_url: ClassVar[str] = "https://developers.forem.com/api/v1"
    limits: ClassVar[Limits] = Limits(max_length=BODY_MAX_BYTES, unit="UTF-8 bytes")
    capabilities: frozenset[Capability] = frozenset(
        {
            Capability.LONG_FORM,
            Capability.RECONCILE,
            Capability.DELETE,
            Capability.FOLLOWER_LIST,
        }
    )

    Settings = DevtoSettings

    def _make_client(self) -> HttpClient:
        key = self.settings.api_key.get_secret_value()
        return HttpClient(
            self.name,
            self.account,
            base_url=self.settings.base_url,
            headers={"api-key": key, "Accept": ACCEPT},
            secrets=[key],
            classify=self.classify,
        )

    # -- checks ---------------------------------------------------------------

    def measure(self, text: str) -> int:
        """Forem limits the Markdown body in bytes."""
        return utf8_length(text)

    @property
    def url_counting(self) -> UrlCounting:
        """UTF-8 bytes: a URL counts its characters, like any text."""
        return UrlCounting()

    def _check_options(self, post: RenderedPost) -> list[str]:
        problems = [p for p in [title_problem(first_line(post))] if p]
        cover = post.article.cover if post.article else None
        if cover is not None and not cover.url:
            problems.append(
                "dev.to takes a cover only as a URL (its API has no upload): add cover.url"
            )
        series = post.options.get("series")
        if series is not None and not isinstance(series, str):
            problems.append(f"series {series!r} is not a name")
        if not isinstance(post.options.get("published", True), bool):
            problems.append("published must be true or false")
        return problems

    # -- publishing -----------------------------------------------------------

    def _publish(self, post: RenderedPost, idempotency_key: str) -> Published:
        """``POST /api/articles``; a refusal that says it is already there finds it.

        Raises:
            AuthError, RateLimited, Rejected, Transient, Unknown.
        """
        body = self._article(post)
        wanted = Wanted(body["title"], body["body_markdown"], body.get("canonical_url"))
        self._sent[idempotency_key] = wanted
        kind = Kind.PUBLISHING_WRITE
        try:
            response = self.http.request("POST", "/api/articles", kind=kind, json={"article": body})
        except Rejected as refused:
            return self._already_there(refused, wanted)
        published = to_published(self.http.json_object(response, kind))
        if published is None:
            message = "dev.to answered without the article's id or URL"
            raise self.http.unreadable(message, kind, response.status_code)
        return published

    def _article(self, post: RenderedPost) -> ArticleBody:
        """The ``article`` object: Markdown body, title, tags, cover, canonical URL."""
        options = post.options
        body: ArticleBody = {
            "title": first_line(post),
            "body_markdown": "\n\n".join(post.parts),
            "published": bool(options.get("published", self.settings.published)),
        }
        series = options.get("series") or self.settings.series
        if series:
            body["series"] = str(series)
        if self.settings.organization_id is not None:
            body["organization_id"] = self.settings.organization_id
        article = post.article
        if article is None:
            return body
        if article.tags:
            body["tags"] = forem_tags(article.tags)
        if article.canonical_url:
            body["canonical_url"] = article.canonical_url
        if article.summary:
            body["description"] = article.summary
        if article.cover is not None and article.cover.url:
            body["main_image"] = article.cover.url
        return body

    def _already_there(self, refused: Rejected, wanted: Wanted) -> Published:
        """The article a "has already been taken" refusal is about, if it is ours."""
        reason = refused.reason.lower()
        if refused.status != 422 or not any(words in reason for words in ALREADY_TAKEN):
            raise refused
        found = self.find_article(wanted)
        if found is None:
            raise refused
        self.log.info("dev.to already has this article (%s): recorded, not sent again", found.url)
        return found

    def find_recent(self, idempotency_key: str, text: str) -> Published | None:
        """The newest of the account's last 100 articles that this key (or ``text``) made.

        Matched by canonical URL, else by Markdown body (and title, when this process
        sent it): Forem keeps no key.

        Raises:
            AuthError, RateLimited, Transient.
        """
        return self.find_article(self._sent.get(idempotency_key) or Wanted("", text))
