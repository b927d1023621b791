"""Answering a member on Discord (bot mode): a message with a ``message_reference``.

https://discord.com/developers/docs/resources/message#create-message: a
``message_reference`` makes the message a reply; ``allowed_mentions.replied_user``
pings the member it answers (off by default), and ``fail_if_not_exists`` refuses
an answer to a deleted message instead of posting it loose. ``nonce`` with
``enforce_nonce`` makes a resend return the first message, as for posts.
"""

from __future__ import annotations

from dataclasses import replace

from connectors.base import InboxItem, Published, Rejected, RenderedPost
from connectors.discord.constants import nonce_for
from connectors.discord.reading import DiscordReading
from connectors.discord.shapes import Message
from connectors.http import Kind

__all__ = ["DiscordReplies"]


class DiscordReplies(DiscordReading):
    """``reply_post`` and ``reply`` of :class:`connectors.discord.DiscordConnector`."""

    def reply_post(self, item: InboxItem, post: RenderedPost) -> RenderedPost:
        """The post as written: the reply itself pings the member."""
        return post

    def reply(self, item: InboxItem, post: RenderedPost, idempotency_key: str) -> Published:
        """``POST /channels/{channel}/messages`` replying to the member's message.

        Raises:
            Rejected: a webhook account, a deleted message, or an answer over a limit.
            AuthError, RateLimited, Transient, Unknown.
        """
        if self._webhook is not None:
            raise self.unable("replies (a webhook cannot answer a message)")
        problems = self.check(post)
        if problems or len(post.parts) != 1:
            raise self.error(Rejected, "; ".join(problems) or "a reply is one post")
        channel = str(item.raw.get("channel_id") or self._channel())
        payload: dict[str, object] = {
            "content": post.text,
            "allowed_mentions": {"parse": [], "replied_user": True},
            "message_reference": {
                "message_id": str(item.raw.get("message_id") or item.remote_id.split(":")[-1]),
                "fail_if_not_exists": True,
            },
            "nonce": nonce_for(idempotency_key),
            "enforce_nonce": True,
        }
        kind = Kind.KEYED_WRITE
        response = self._send(
            "POST",
            f"/channels/{channel}/messages",
            "POST /channels/messages",
            channel,
            kind=kind,
            json=payload,
        )
        published = self._published(self.http.parse(response, Message, kind), kind)
        return replace(published, thread_ids=(published.remote_id,))
