"""Forem's rules and the shapes of its answers: tags, titles, articles as ``Published``.

Limits mirror Forem's ``Article`` model (app/models/article.rb): ``body_markdown`` at
most 800 KiB, a title of at most 128 characters, at most 4 tags
(``ArticlePolicy::MAX_TAG_LIST_SIZE``) of letters and digits, at most 30 each.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypedDict

from connectors.base import Metrics, Published
from connectors.longform import parse_timestamp
from connectors.payload import JSONObject
from crosspost.rendering.text import grapheme_length

#: ``validates :body_markdown, bytesize: { maximum: 800.kilobytes }``.
BODY_MAX_BYTES = 800 * 1024
TITLE_MAX = 128
MAX_TAGS = 4
TAG_MAX = 30
#: The words of a refusal that means "you already have this article" (a resend that landed).
ALREADY_TAKEN = (
    "canonical url has already been taken",
    "body markdown has already been taken",
    "has already been used in the last five minutes",
)


class ArticleBody(TypedDict, total=False):
    """The ``article`` object of ``POST /api/articles``."""

    title: str
    body_markdown: str
    published: bool
    series: str
    main_image: str
    canonical_url: str
    description: str
    tags: list[str]
    organization_id: int


def forem_tags(tags: Iterable[str]) -> list[str]:
    """Tags as Forem takes them: lowercase letters and digits only, 30 at most, first 4."""
    found: list[str] = []
    for tag in tags:
        name = "".join(c for c in str(tag).lower() if c.isalnum())[:TAG_MAX]
        if name and name not in found:
            found.append(name)
    return found[:MAX_TAGS]


def title_problem(title: str) -> str | None:
    """Why Forem would refuse ``title``, or None."""
    length = grapheme_length(title)
    if length > TITLE_MAX:
        return f"title is {length} characters long (at most {TITLE_MAX} on dev.to)"
    return None


@dataclass(frozen=True)
class Wanted:
    """What identifies an article this connector sent: to find it again after a doubt."""

    title: str
    body: str
    canonical_url: str | None = None

    def matches(self, article: JSONObject) -> bool:
        """Whether ``article`` (an item of ``/api/articles/me/all``) is this one."""
        if self.canonical_url and article.get("canonical_url") == self.canonical_url:
            return True
        if _squashed(str(article.get("body_markdown") or "")) != _squashed(self.body):
            return False
        return not self.title or article.get("title") == self.title


def _squashed(text: str) -> str:
    return " ".join(text.split())


def to_published(article: JSONObject) -> Published | None:
    """A :class:`Published` from an article object, or None when it lacks id or URL."""
    article_id = article.get("id")
    url = article.get("url")
    if not isinstance(article_id, int) or isinstance(article_id, bool) or not url:
        return None
    moment = (
        parse_timestamp(article.get("published_at"))
        or parse_timestamp(article.get("created_at"))
        or datetime.now(UTC)
    )
    return Published(
        remote_id=str(article_id),
        url=str(url),
        published_at=moment,
        thread_ids=(str(article_id),),
        extra={"path": article.get("path"), "published": article.get("published", True)},
    )


def article_metrics(article: JSONObject) -> Metrics:
    """Reactions, comments and (with the key, in ``/me`` lists) page views."""
    counts = ("public_reactions_count", "comments_count", "page_views_count")
    raw = {k: v for k in counts if isinstance(v := article.get(k), int)}
    return Metrics(
        likes=raw.get("public_reactions_count"),
        replies=raw.get("comments_count"),
        views=raw.get("page_views_count"),
        raw=raw,
    )
