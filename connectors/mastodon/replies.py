"""Answering a member on Mastodon: a status with ``in_reply_to_id``, addressed to them.

https://docs.joinmastodon.org/methods/statuses/#create: ``in_reply_to_id`` puts the
status in the member's thread. Mastodon notifies only the accounts a status
mentions, so the answer starts with the author's handle unless it names them
already (as Mastodon's own client does), and it is never more public than the
status it answers (a reply to a private or direct status stays so).
"""

from __future__ import annotations

from dataclasses import replace

from connectors.base import InboxItem, Published, RenderedPost
from connectors.mastodon.counting import MENTION_RE
from connectors.mastodon.reading import MastodonReading

__all__ = ["MastodonReplies"]

#: From most to least public; an answer takes the less public of its own and the item's.
_ORDER = ("public", "unlisted", "private", "direct")


def _mentions(text: str, handle: str) -> bool:
    return any(match.group(0).lower() == handle.lower() for match in MENTION_RE.finditer(text))


class MastodonReplies(MastodonReading):
    """``reply_post`` and ``reply`` of :class:`connectors.mastodon.MastodonConnector`."""

    def reply_post(self, item: InboxItem, post: RenderedPost) -> RenderedPost:
        """``post`` addressed to the item's author, as private as the item."""
        text = post.text
        if item.author.startswith("@") and not _mentions(text, item.author):
            text = f"{item.author} {text}"
        options = dict(post.options)
        theirs = item.raw.get("visibility")
        ours = options.get("visibility") or self.settings.visibility or "public"
        if theirs in _ORDER and ours in _ORDER and _ORDER.index(theirs) > _ORDER.index(ours):
            options["visibility"] = theirs
        return replace(post, parts=(text,), options=options)

    def reply(self, item: InboxItem, post: RenderedPost, idempotency_key: str) -> Published:
        """``POST /api/v1/statuses`` with ``in_reply_to_id`` and the ``Idempotency-Key``.

        Raises:
            Rejected: the status to answer is gone (404), or the answer breaks a limit.
            AuthError, RateLimited, Transient, Unknown.
        """
        parent = Published(item.remote_id, item.url, item.created_at)
        return self._answer(post, parent, parent, idempotency_key)
