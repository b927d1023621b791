"""What one rendered post becomes on Nostr: the kind, content and tags of its event.

Notes are kind 1 (NIP-01) with NIP-10 marked reply tags for the parts of a thread;
articles are kind 30023 (NIP-23). Media are not uploaded (Nostr has no standard
upload): with ``media_url`` set, each file's public URL goes in the content and in
an ``imeta`` tag (NIP-92) that carries its alt text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from connectors.base import MediaItem, RenderedPost, ThreadPart
from connectors.nostr.events import ARTICLE, NOTE, Tag

__all__ = ["Draft", "article", "created_at", "media_url_of", "note"]

#: The option of a post's ``nostr:`` overrides that becomes an article's summary.
SUMMARY_OPTION = "summary"


@dataclass(frozen=True)
class Draft:
    """An event before it is signed."""

    kind: int
    content: str
    tags: list[Tag]


def created_at(post: RenderedPost, part: ThreadPart, fallback: datetime) -> int:
    """The event time: the publication's due time (so a resend is the same event).

    Later parts of a thread are one second apart, so clients show them in order.
    ``fallback`` stands in when the post does not say when it was due.
    """
    due = post.scheduled_at or fallback
    if due.tzinfo is None:  # the store keeps UTC without a zone
        due = due.replace(tzinfo=UTC)
    return int(due.timestamp()) + part.index


def media_url_of(item: MediaItem, media_url: str) -> str:
    """Where ``item`` is served: ``<media_url>/<file name>``."""
    return f"{media_url}/{quote(item.path.name)}"


def _media(post: RenderedPost, media_url: str | None) -> tuple[list[str], list[Tag]]:
    """The URLs to show in the content and their ``imeta`` tags."""
    if not media_url:
        return [], []
    urls, tags = [], []
    for item in post.media:
        url = media_url_of(item, media_url)
        urls.append(url)
        meta = [f"url {url}", f"m {item.mime_type}"]
        if item.alt:
            meta.append(f"alt {item.alt}")
        tags.append(["imeta", *meta])
    return urls, tags


def _labels(post: RenderedPost) -> list[Tag]:
    """Tags every part carries: the content warning (NIP-36) and the language (NIP-32)."""
    tags: list[Tag] = []
    if post.content_warning:
        tags.append(["content-warning", post.content_warning])
    if post.language:
        tags += [["L", "ISO-639-1"], ["l", post.language, "ISO-639-1"]]
    return tags


def note(
    post: RenderedPost, part: ThreadPart, pubkey: str, relay_hint: str, media_url: str | None
) -> Draft:
    """A kind-1 note for one part; later parts answer the one before (NIP-10 markers)."""
    tags: list[Tag] = []
    content = part.text
    if part.index == 0:
        urls, tags = _media(post, media_url)
        content = "\n".join([content, *urls]) if urls else content
    if part.root is not None:
        tags.append(["e", part.root.remote_id, relay_hint, "root", pubkey])
        if part.reply_to is not None and part.reply_to.remote_id != part.root.remote_id:
            tags.append(["e", part.reply_to.remote_id, relay_hint, "reply", pubkey])
        tags.append(["p", pubkey])
    return Draft(NOTE, content, tags + _labels(post))


def article(post: RenderedPost, identifier: str, published_at: int, media_url: str | None) -> Draft:
    """A NIP-23 article: the whole text as Markdown, the title and the first image as tags."""
    urls, media_tags = _media(post, media_url)
    tags: list[Tag] = [
        ["d", identifier],
        ["title", post.title],
        ["published_at", str(published_at)],
    ]
    summary = post.options.get(SUMMARY_OPTION)
    if isinstance(summary, str) and summary.strip():
        tags.append(["summary", summary.strip()])
    if urls:
        tags.append(["image", urls[0]])
    content = "\n\n".join(post.parts)
    return Draft(ARTICLE, content, tags + media_tags + _labels(post))
