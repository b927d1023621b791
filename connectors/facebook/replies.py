"""Answering a comment on a Page post: a comment under it, written as the Page.

``POST /{comment-id}/comments`` with ``message``
(https://developers.facebook.com/docs/graph-api/reference/object/comments/) needs a Page
token with ``pages_manage_engagement``; it answers ``{"id": "{post}_{comment}"}``. The
inbox holds top-level comments only, so the answer sits in that comment's thread. Nothing
stops a resend from commenting twice: the request is a publishing write.
"""

from __future__ import annotations

from connectors.base import InboxItem, Published, Rejected, RenderedPost
from connectors.facebook.reading import FacebookReading
from connectors.http import Kind

__all__ = ["FacebookReplies"]


class FacebookReplies(FacebookReading):
    """``reply_post`` and ``reply`` of :class:`connectors.facebook.FacebookConnector`."""

    def reply_post(self, item: InboxItem, post: RenderedPost) -> RenderedPost:
        """``post`` as it is: Facebook notifies the comment's author of an answer under it."""
        return post

    def reply(self, item: InboxItem, post: RenderedPost, idempotency_key: str) -> Published:
        """Comment ``post`` under the member's comment ``item``.

        Raises:
            Rejected: the answer breaks a limit, carries media, or the comment is gone.
            AuthError, RateLimited, Transient, Unknown.
        """
        problems = self.check(post)
        if len(post.parts) != 1:
            problems.append("a reply is one post")
        if post.media:
            problems.append("an answer to a Facebook comment is text only")
        if problems:
            raise self.error(Rejected, "; ".join(problems))
        kind = Kind.PUBLISHING_WRITE
        body = self._object(
            "POST",
            f"{item.remote_id}/comments",
            kind,
            data={"message": post.text},
            needs="pages_manage_engagement",
        )
        comment_id = self._id(body, kind, "comment")
        self.log.info("answered comment %s as %s", item.remote_id, comment_id)
        return Published(
            remote_id=comment_id,
            url=_answer_url(item.url, comment_id),
            published_at=self.http.clock(),
            thread_ids=(comment_id,),
        )


def _answer_url(parent_url: str | None, comment_id: str) -> str | None:
    """The member's comment's permalink with ``reply_comment_id``, as Facebook links answers."""
    if not parent_url or "comment_id=" not in parent_url:
        return None
    return f"{parent_url}&reply_comment_id={comment_id.rpartition('_')[2]}"
