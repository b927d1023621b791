"""Answering a member in a Matrix room: a rich reply, in the member's thread if any.

https://spec.matrix.org/v1.16/client-server-api/#rich-replies: ``m.in_reply_to``
names the message answered; the reply fallback (a quote of it in ``body``) is no
longer sent (v1.13 removed it). ``m.mentions`` names the member so that their
client notifies them
(https://spec.matrix.org/v1.16/client-server-api/#user-and-room-mentions). A member
who wrote in a thread is answered in that thread
(https://spec.matrix.org/v1.16/client-server-api/#threading, ``is_falling_back``
false: the reply is to that message, not only the thread). The transaction id of
the key makes a resend return the first event.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from connectors.base import InboxItem, Published, Rejected, RenderedPost
from connectors.matrix.body import JsonObject, message_content
from connectors.matrix.streaming import MatrixStreaming

__all__ = ["MatrixReplies", "reply_relation"]


def reply_relation(item: InboxItem) -> JsonObject:
    """The ``m.relates_to`` of an answer to ``item``: in its thread when it was in one."""
    answered: JsonObject = {"m.in_reply_to": {"event_id": item.remote_id}}
    root = item.raw.get("thread_root")
    if not isinstance(root, str):
        return answered
    return {"rel_type": "m.thread", "event_id": root, "is_falling_back": False, **answered}


class MatrixReplies(MatrixStreaming):
    """``reply_post`` and ``reply`` of :class:`connectors.matrix.MatrixConnector`."""

    def reply_post(self, item: InboxItem, post: RenderedPost) -> RenderedPost:
        """The post as written: ``m.mentions`` notifies the member."""
        return post

    def reply(self, item: InboxItem, post: RenderedPost, idempotency_key: str) -> Published:
        """``PUT /rooms/{room}/send/m.room.message/{txn}`` answering the member's message.

        Raises:
            Rejected: an answer over a limit, or more than one part.
            AuthError, RateLimited, Transient, Unknown.
        """
        problems = self.check(post)
        if problems or len(post.parts) != 1:
            raise self.error(Rejected, "; ".join(problems) or "a reply is one message")
        self.room_id()  # asked before sending, so nothing can fail once the message exists
        self.server_name()
        content = message_content(post.text, self.settings.msgtype)
        content["m.relates_to"] = reply_relation(item)
        content["m.mentions"] = {"user_ids": [item.author_id or item.author]}
        published = self._published(self.send_message(content, idempotency_key), datetime.now(UTC))
        return replace(published, thread_ids=(published.remote_id,))
