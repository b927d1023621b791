"""Ghost's answers: the error envelope, posts as ``Published``, what a post is matched by."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypedDict

import requests
from pydantic import JsonValue

from connectors.base import Published
from connectors.http import describe_object
from connectors.longform import parse_timestamp
from connectors.payload import JSONObject
from crosspost.rendering.markup import visible_text
from crosspost.rendering.text import grapheme_length, iter_graphemes

#: Ghost's own bounds on post fields (its schema: posts.custom_excerpt, feature_image_alt).
EXCERPT_MAX = 300
IMAGE_ALT_MAX = 191
TITLE_MAX = 255


class PostBody(TypedDict, total=False):
    """One item of ``posts`` in ``POST /ghost/api/admin/posts/``."""

    title: str
    html: str
    status: str
    published_at: str
    tags: list[dict[str, str]]
    custom_excerpt: str
    canonical_url: str
    feature_image: str
    feature_image_alt: str
    visibility: str


@describe_object
def describe(response: requests.Response, body: JSONObject) -> str:
    """``{"errors": [{"message", "context", "type"}]}``: message and context of the first."""
    errors = body.get("errors")
    first = errors[0] if isinstance(errors, list) and errors else None
    if not isinstance(first, dict):
        return str(body)[:200]
    message = str(first.get("message") or first.get("type") or "error")
    context = first.get("context")
    return f"{message} ({context})" if isinstance(context, str) and context else message


def cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` graphemes, with an ellipsis when it was longer."""
    if grapheme_length(text) <= limit:
        return text
    return "".join(list(iter_graphemes(text))[: limit - 1]).rstrip() + "…"


def first_post(body: JsonValue) -> JSONObject | None:
    """``posts[0]`` of an answer, if it is an object."""
    posts = body.get("posts") if isinstance(body, dict) else None
    first = posts[0] if isinstance(posts, list) and posts else None
    return first if isinstance(first, dict) else None


def to_published(post: JSONObject) -> Published | None:
    """A :class:`Published` from a post object, or None when it has no id."""
    post_id = post.get("id")
    if not isinstance(post_id, str) or not post_id:
        return None
    moment = (
        parse_timestamp(post.get("published_at"))
        or parse_timestamp(post.get("created_at"))
        or datetime.now(UTC)
    )
    url = post.get("url")
    return Published(
        remote_id=post_id,
        url=str(url) if url else None,
        published_at=moment,
        thread_ids=(post_id,),
        extra={"uuid": post.get("uuid"), "slug": post.get("slug"), "status": post.get("status")},
    )


@dataclass(frozen=True)
class Wanted:
    """What identifies a post this connector sent: to find it again after a doubt."""

    title: str
    html: str
    canonical_url: str | None = None

    def matches(self, post: JSONObject) -> bool:
        """Whether ``post`` (from ``GET posts/?formats=html``) is this one."""
        if self.canonical_url and post.get("canonical_url") == self.canonical_url:
            return post.get("title") == self.title or not self.title
        if self.title and post.get("title") != self.title:
            return False
        return _words(str(post.get("html") or "")) == _words(self.html)


def _words(html: str) -> str:
    # Ghost rewrites the HTML it is given (into its editor's format and back), which
    # moves whitespace between blocks: compare what a reader sees, whitespace aside
    return "".join(visible_text(html).split())
