"""WordPress's answers: the error envelope, posts as ``Published``, comments as inbox items."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypedDict

import requests
from pydantic import JsonValue

from connectors.base import InboxItem, Published
from connectors.http import describe_object
from connectors.longform import parse_timestamp
from connectors.payload import JSONObject
from crosspost.rendering.markup import visible_text


class PostBody(TypedDict, total=False):
    """The body of ``POST /wp/v2/posts``."""

    title: str
    content: str
    status: str
    date_gmt: str
    excerpt: str
    tags: list[int]
    categories: list[int]
    featured_media: int


@describe_object
def describe(response: requests.Response, body: JSONObject) -> str:
    """``{"code", "message", "data": {"status"}}``: the message and its code."""
    message, code = body.get("message"), body.get("code")
    if isinstance(message, str) and message:
        return f"{html.unescape(message)} ({code})" if isinstance(code, str) else message
    return str(body)[:200]


def rendered(field: JsonValue) -> str:
    """The ``rendered`` (or ``raw``) text of a field such as ``title`` or ``content``."""
    if isinstance(field, dict):
        value = field.get("raw", field.get("rendered"))
        return str(value) if value is not None else ""
    return str(field or "")


def to_published(post: JSONObject) -> Published | None:
    """A :class:`Published` from a post object, or None when it has no id."""
    post_id = post.get("id")
    if not isinstance(post_id, int) or isinstance(post_id, bool):
        return None
    link = post.get("link")
    return Published(
        remote_id=str(post_id),
        url=str(link) if link else None,
        published_at=parse_timestamp(post.get("date_gmt")) or datetime.now(UTC),
        thread_ids=(str(post_id),),
        extra={"slug": post.get("slug"), "status": post.get("status")},
    )


def comment_item(comment: JSONObject) -> InboxItem | None:
    """A member's comment as an inbox item, answering the post it was left on."""
    comment_id, post_id = comment.get("id"), comment.get("post")
    created = parse_timestamp(comment.get("date_gmt"))
    if not isinstance(comment_id, int) or created is None:
        return None
    author = comment.get("author")
    return InboxItem(
        remote_id=str(comment_id),
        kind="comment",
        author=str(comment.get("author_name") or "anonymous"),
        author_id=str(author) if isinstance(author, int) and author else None,
        text=visible_text(rendered(comment.get("content"))).strip(),
        url=str(comment.get("link")) if comment.get("link") else None,
        created_at=created,
        in_reply_to=str(post_id) if isinstance(post_id, int) else None,
        raw={"status": comment.get("status"), "parent": comment.get("parent")},
    )


@dataclass(frozen=True)
class Wanted:
    """What identifies a post this connector sent: to find it again after a doubt."""

    title: str
    content: str

    def matches(self, post: JSONObject) -> bool:
        """Whether ``post`` (``context=edit``: raw title and content) is this one."""
        if self.title and html.unescape(rendered(post.get("title"))) != self.title:
            return False
        return _words(rendered(post.get("content"))) == _words(self.content)


def _words(text: str) -> str:
    # the editor may wrap paragraphs in block comments or move whitespace between tags
    return "".join(visible_text(text).split())
