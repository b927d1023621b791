"""Answering a member on Bluesky: a post whose ``reply`` names the thread's root and parent.

https://docs.bsky.app/docs/advanced-guides/posts#replies: a reply record carries
``reply.root`` (the first post of the thread) and ``reply.parent`` (the post it
answers), each as a strong reference (``uri`` and ``cid``). The inbox keeps the
member post's ``cid`` and its own ``reply.root`` (``raw["root"]``, None for a
post that starts a thread); items collected before that was kept are read back
with ``app.bsky.feed.getPosts``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from connectors.base import InboxItem, Published, Rejected, RenderedPost
from connectors.bluesky.reading import BlueskyReading
from connectors.bluesky.refs import reply_root, strong_ref
from connectors.bluesky.shapes import Posts

__all__ = ["BlueskyReplies"]


class BlueskyReplies(BlueskyReading):
    """``reply_post`` and ``reply`` of :class:`connectors.bluesky.BlueskyConnector`."""

    def reply_post(self, item: InboxItem, post: RenderedPost) -> RenderedPost:
        """The post as written: a Bluesky reply notifies the author without a mention."""
        return post

    def reply(self, item: InboxItem, post: RenderedPost, idempotency_key: str) -> Published:
        """Create the reply record at the key's record key (a resend cannot double it).

        Raises:
            Rejected: the member's post is gone, or the reply breaks a limit.
            AuthError, RateLimited, Transient, Unknown.
        """
        parent, root = self._thread_refs(item)
        return self._answer(post, _published(parent), _published(root), idempotency_key)

    def _thread_refs(self, item: InboxItem) -> tuple[dict[str, str], dict[str, str]]:
        """``(parent, root)`` strong references for an answer to ``item``."""
        parent = strong_ref({"uri": item.remote_id, "cid": item.raw.get("cid")})
        if parent is not None and "root" in item.raw:
            return parent, strong_ref(item.raw.get("root")) or parent
        response = self._read("app.bsky.feed.getPosts", params={"uris": [item.remote_id]})
        views = self._read_answer(response, Posts).posts
        view = views[0] if views else {}
        parent = strong_ref(view)
        if parent is None:
            raise self.error(Rejected, f"the post to answer is gone ({item.remote_id})")
        record = view.get("record")
        root = reply_root(record) if isinstance(record, Mapping) else None
        return parent, root or parent


def _published(ref: Mapping[str, str]) -> Published:
    return Published(ref["uri"], None, datetime.now(UTC), extra={"cid": ref["cid"]})
