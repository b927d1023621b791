"""Bluesky over atproto XRPC (no SDK): sessions, facets, images, threads, metrics.

API pages used:

- https://docs.bsky.app/docs/api/com-atproto-server-create-session (and refresh-session)
- https://docs.bsky.app/docs/api/com-atproto-repo-create-record (get-record, delete-record,
  upload-blob)
- https://docs.bsky.app/docs/advanced-guides/post-richtext (facets, UTF-8 byte offsets)
- https://docs.bsky.app/docs/tutorials/creating-a-post (embeds, replies, link cards)
- https://atproto.com/specs/tid (record keys) and https://atproto.com/specs/xrpc (errors)
- https://docs.bsky.app/docs/api/app-bsky-feed-get-posts, .../app-bsky-actor-get-profile
- https://docs.bsky.app/docs/advanced-guides/rate-limits
- https://docs.bsky.app/docs/api/app-bsky-notification-list-notifications (``reasons``)
- https://docs.bsky.app/docs/api/app-bsky-graph-get-followers (cursor pagination)
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import timedelta
from typing import ClassVar

from connectors.attachments import MediaItem
from connectors.base import (
    STANDARD_CAPABILITIES,
    Capability,
    CommentsAsReplies,
    Limits,
    RenderedPost,
)
from connectors.bluesky.constants import (
    _BYTES_PER_GRAPHEME,
    _HANDLE_RE,
    GET_POSTS_BATCH,
    MAX_BYTES,
    MAX_GRAPHEMES,
    MAX_IMAGE_BYTES,
    POST_COLLECTION,
    SELF_LABELS,
    _byte_slice,
    _now,
    rkey_for,
)
from connectors.bluesky.doctor import BlueskyDoctor
from connectors.bluesky.replies import BlueskyReplies
from connectors.bluesky.settings import BlueskySettings
from connectors.bluesky.shapes import (
    Created,
    External,
    ExternalEmbed,
    Facet,
    Feature,
    Image,
    ImagesEmbed,
    PostRecord,
    Resolved,
    StrongRef,
    Uploaded,
)
from connectors.errors import ConnectorError, Rejected, Transient
from connectors.http import Kind
from connectors.images import image_size
from connectors.results import Published, ThreadPart
from crosspost.rendering.markdown_forms import LinkSpan, TextFormat
from crosspost.rendering.text import (
    find_hashtags,
    find_mentions,
    find_urls,
    grapheme_length,
    utf8_length,
)
from crosspost.rendering.urls import UrlCounting

__all__ = ["BlueskyConnector", "BlueskySettings", "rkey_for"]


class BlueskyConnector(CommentsAsReplies[BlueskySettings], BlueskyReplies, BlueskyDoctor):
    """Publishes to one Bluesky account through its PDS, reads counts from the AppView."""

    name: ClassVar[str] = "bluesky"
    #: The record key is derived from the idempotency key: a repository holds one
    #: record per key, for good.
    idempotency_window: ClassVar[timedelta | None] = timedelta(days=365)
    docs_url: ClassVar[str] = "https://docs.bsky.app/docs/category/http-reference"
    #: app.bsky.feed.getPosts answers this many posts per call.
    metrics_batch: ClassVar[int] = GET_POSTS_BATCH
    #: Markdown links become link facets over their text.
    text_format: ClassVar[TextFormat] = TextFormat.RICH
    limits: ClassVar[Limits] = Limits(
        max_length=MAX_GRAPHEMES,
        unit="graphemes",
        max_media=4,
        max_media_bytes=MAX_IMAGE_BYTES,
        media_types=frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"}),
        alt_text_required=True,
    )
    capabilities: frozenset[Capability] = STANDARD_CAPABILITIES | {
        Capability.IDEMPOTENCY_KEY,
        Capability.INBOX,
        Capability.FOLLOWER_LIST,
        Capability.REPLY,
        Capability.FIRST_COMMENT,
    }

    Settings = BlueskySettings

    def _open(self) -> None:
        super()._open()
        self._session = None
        #: DIDs of the handles mentioned so far (None: no such Bluesky handle).
        self._dids: dict[str, str | None] = {}

    # -- counting -------------------------------------------------------------

    def measure(self, text: str) -> int:
        """Graphemes, or UTF-8 bytes / 10 (rounded up) when that is larger.

        Bluesky refuses text over 300 graphemes *or* over 3000 bytes; this count
        is at most 300 exactly when both hold, so the core's splitter keeps
        every thread part within both rules. For text of up to 10 bytes per
        grapheme (every script and almost every emoji) it is the grapheme count.
        """
        return max(grapheme_length(text), -(-utf8_length(text) // _BYTES_PER_GRAPHEME))

    @property
    def url_counting(self) -> UrlCounting:
        """Graphemes and bytes: a URL counts its characters, like any text."""
        return UrlCounting()

    @property
    def counting_key(self) -> Hashable:
        """Every account counts alike (the rules are the network's)."""
        return ("bluesky",)

    def _check_text(self, post: RenderedPost, limits: Limits) -> list[str]:
        """Both of Bluesky's rules, each reported in its own unit."""
        problems: list[str] = []
        for number, part in enumerate(post.parts, start=1):
            graphemes, size = grapheme_length(part), utf8_length(part)
            if graphemes > MAX_GRAPHEMES:
                problems.append(self._too_long(post, number, graphemes, MAX_GRAPHEMES, "graphemes"))
            if size > MAX_BYTES:
                problems.append(self._too_long(post, number, size, MAX_BYTES, "UTF-8 bytes"))
        return problems

    def _check_options(self, post: RenderedPost) -> list[str]:
        """A content warning must be one of Bluesky's self-labels."""
        problems: list[str] = []
        warning = post.content_warning.strip()
        if warning and warning not in SELF_LABELS:
            allowed = ", ".join(sorted(SELF_LABELS))
            problems.append(f"{self.name} has no free-text content warnings; use one of {allowed}")
        return problems

    # -- publishing -----------------------------------------------------------

    def _publish_part(self, post: RenderedPost, part: ThreadPart) -> Published:
        """Create one post record at the record key derived from the idempotency key."""
        index, text, reply_to, root, idempotency_key = (
            part.index,
            part.text,
            part.reply_to,
            part.root,
            part.idempotency_key,
        )
        session = self._current_session()
        record = self._record(post, index, text, reply_to, root)
        rkey = rkey_for(idempotency_key)
        body = {
            "repo": session.did,
            "collection": POST_COLLECTION,
            "rkey": rkey,
            "validate": True,
            "record": record,
        }
        try:
            response = self._xrpc(
                "POST", "com.atproto.repo.createRecord", kind=Kind.KEYED_WRITE, json=body
            )
        except (Rejected, Transient) as error:
            # A resend lands on the same key: the PDS refuses it, and the earlier one is the post.
            existing = self._existing(rkey, error)
            if existing is None:
                raise
            self.log.info("record %s already existed; not posted twice", rkey)
            return existing
        kind = Kind.KEYED_WRITE
        created = self._read_answer(response, Created, kind)
        uri, cid = (
            self._required(created.uri, "uri", kind),
            self._required(created.cid, "cid", kind),
        )
        return self._published(uri, cid, record["createdAt"])

    def _existing(self, rkey: str, error: ConnectorError) -> Published | None:
        if error.status is None or error.status in (401, 403, 429):
            return None
        try:
            return self._get_post(rkey)
        except ConnectorError:
            return None

    def _record(
        self,
        post: RenderedPost,
        index: int,
        text: str,
        reply_to: Published | None,
        root: Published | None,
    ) -> PostRecord:
        record: PostRecord = {"$type": POST_COLLECTION, "text": text, "createdAt": _now()}
        facets = self._facets(text, post.links[index] if index < len(post.links) else ())
        if facets:
            record["facets"] = facets
        if post.language:
            record["langs"] = [post.language]
        if reply_to is not None and root is not None:
            record["reply"] = {"root": self._ref(root), "parent": self._ref(reply_to)}
        embed = self._embed(post) if index == 0 else None
        if embed:
            record["embed"] = embed
        warning = post.content_warning.strip()
        if warning:
            record["labels"] = {
                "$type": "com.atproto.label.defs#selfLabels",
                "values": [{"val": warning}],
            }
        return record

    @staticmethod
    def _ref(published: Published) -> StrongRef:
        return {"uri": published.remote_id, "cid": str(published.extra.get("cid", ""))}

    # -- rich text ------------------------------------------------------------

    def _facets(self, text: str, links: Sequence[LinkSpan] = ()) -> list[Facet]:
        """Link, mention and hashtag facets with UTF-8 byte offsets, in text order.

        ``links`` are the Markdown links of this post (``[text](url)``); what the
        text itself shows (a URL, a #tag) inside one of them gets no facet of its own,
        as facets must not overlap.
        """
        found: list[tuple[int, int, Feature]] = [
            (link.start, link.end, {"$type": "app.bsky.richtext.facet#link", "uri": link.url})
            for link in links
        ]
        found.extend(span for span in self._text_facets(text) if not _overlaps(span, links))
        found.sort(key=lambda item: item[0])
        return [
            {"index": _byte_slice(text, start, end), "features": [feature]}
            for start, end, feature in found
        ]

    def _text_facets(self, text: str) -> list[tuple[int, int, Feature]]:
        """Facets for the URLs, mentions and hashtags written in the text."""
        found: list[tuple[int, int, Feature]] = []
        for span in find_urls(text):
            found.append(
                (span.start, span.end, {"$type": "app.bsky.richtext.facet#link", "uri": span.text})
            )
        for span in find_mentions(text):
            did = self._resolve(span.text[1:])
            if did:
                found.append(
                    (span.start, span.end, {"$type": "app.bsky.richtext.facet#mention", "did": did})
                )
        for span in find_hashtags(text):
            tag = span.text[1:]
            if grapheme_length(tag) <= 64 and utf8_length(tag) <= 640:
                found.append(
                    (span.start, span.end, {"$type": "app.bsky.richtext.facet#tag", "tag": tag})
                )
        return found

    def _resolve(self, handle: str) -> str | None:
        """The DID of ``handle``, or None when it is no Bluesky handle or does not resolve."""
        handle = handle.lower()
        if "@" in handle or not _HANDLE_RE.match(handle):
            return None  # a fediverse address or a bare @word
        if handle not in self._dids:
            response = self._read(
                "com.atproto.identity.resolveHandle", params={"handle": handle}, ok=(400, 404)
            )
            did = self._read_answer(response, Resolved).did if response.ok else None
            self._dids[handle] = did if did is not None and did.startswith("did:") else None
        return self._dids[handle]

    # -- embeds ---------------------------------------------------------------

    def _embed(self, post: RenderedPost) -> ImagesEmbed | ExternalEmbed | None:
        if post.media:
            images = [self._image(item) for item in post.media]
            return {"$type": "app.bsky.embed.images", "images": images}
        if post.link:
            external: External = {
                "uri": post.link,
                "title": post.title,
                "description": str(post.options.get("description", "")),
            }
            return {"$type": "app.bsky.embed.external", "external": external}
        return None

    def _image(self, item: MediaItem) -> Image:
        try:
            data = item.path.read_bytes()
        except OSError as error:
            raise self.error(
                Rejected, f"{item.path.name}: cannot read the file ({error.strerror})"
            ) from None
        # An unreferenced blob is garbage-collected by the PDS: the upload is harmless.
        response = self._xrpc(
            "POST",
            "com.atproto.repo.uploadBlob",
            kind=Kind.HARMLESS_WRITE,
            data=data,
            headers={"Content-Type": item.mime_type},
        )
        blob = self._read_answer(response, Uploaded, Kind.HARMLESS_WRITE).blob
        if blob is None:
            message = "the blob upload answer has no 'blob'"
            raise self.http.unreadable(message, Kind.HARMLESS_WRITE)
        image: Image = {"image": blob, "alt": item.alt}
        size = image_size(data)
        if size and all(size):
            image["aspectRatio"] = {"width": size[0], "height": size[1]}
        return image


def _overlaps(span: tuple[int, int, Feature], links: Sequence[LinkSpan]) -> bool:
    return any(span[0] < link.end and link.start < span[1] for link in links)
