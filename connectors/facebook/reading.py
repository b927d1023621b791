"""Reading a Facebook Page back: post counts and views, followers, comments of members."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import timedelta

from connectors.base import (
    AccountMetrics,
    AuthError,
    InboxItem,
    InboxPage,
    Metrics,
    Rejected,
)
from connectors.facebook.settings import FacebookSettings
from connectors.graph import GraphConnector, count, insight_values, items, number, parse_time
from connectors.http import Kind

#: Counts read from the post itself (``limit(0)``: the summaries only, no reactions listed).
POST_FIELDS = (
    "reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0),shares"
)
#: Insights of a post; ``post_impressions*`` were retired on 2025-11-15 for ``*_media_view*``.
POST_INSIGHTS = (
    "post_media_view",
    "post_total_media_view_unique",
    "post_reactions_by_type_total",
    "post_clicks",
)
#: Comments of posts this recent are read for the inbox; older posts are left alone.
INBOX_POSTS_WINDOW = timedelta(days=30)
_COMMENT_FIELDS = "id,from,message,created_time,permalink_url"


class FacebookReading(GraphConnector[FacebookSettings]):
    """The reading half of :class:`connectors.facebook.FacebookConnector`."""

    #: Why the Page's insights are not read in this process (no read_insights), once known.
    _insights_refused: str | None = None

    def _api_root(self) -> str:
        return f"https://graph.facebook.com/{self.settings.version}"

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        """Reactions, comments and shares of each post; views when the token has read_insights.

        Posts Facebook does not know any more are left out.
        """
        found: dict[str, Metrics] = {}
        for post_id in dict.fromkeys(remote_ids):
            body = self._read_or_missing(
                post_id, {"fields": POST_FIELDS}, needs="pages_read_engagement"
            )
            if body is None:
                continue
            metrics = Metrics(
                likes=_total(body, "reactions"),
                replies=_total(body, "comments"),
                reposts=_shares(body),
                raw={"fields": body},
            )
            found[post_id] = self._with_insights(post_id, metrics)
        return found

    def _with_insights(self, post_id: str, metrics: Metrics) -> Metrics:
        """``metrics`` with ``views`` from the post's insights, when the token may read them."""
        if self._insights_refused is not None:
            return metrics
        try:
            body = self._read_or_missing(
                f"{post_id}/insights", {"metric": ",".join(POST_INSIGHTS)}, needs="read_insights"
            )
        except (AuthError, Rejected) as error:
            self._insights_refused = error.message
            self.log.warning("post insights unavailable, counting without views: %s", error)
            return metrics
        if body is None:
            return metrics
        values = insight_values(body)
        return replace(
            metrics,
            views=count(values, "post_media_view"),
            raw={**metrics.raw, "insights": dict(values)},
        )

    def account_metrics(self) -> AccountMetrics:
        """Followers of the Page (``followers_count``; ``fan_count``, its likes, in raw)."""
        body = self._object(
            "GET",
            self.settings.page_id,
            Kind.READ,
            params={"fields": "followers_count,fan_count"},
            needs="pages_read_engagement",
        )
        return AccountMetrics(followers=number(body.get("followers_count")), raw=body)

    def fetch_inbox(self, cursor: str | None) -> InboxPage:
        """Comments by others on the Page's posts of the last 30 days, newer than ``cursor``.

        ``cursor`` is the time of the newest comment seen (ISO 8601). Needs
        ``pages_read_user_content`` besides ``pages_read_engagement``.
        """
        now = self.http.clock()
        since = parse_time(cursor) or now - timedelta(days=7)
        comments = f"comments.order(reverse_chronological).limit(50){{{_COMMENT_FIELDS}}}"
        body = self._object(
            "GET",
            f"{self.settings.page_id}/published_posts",
            Kind.READ,
            params={
                "fields": f"id,{comments}",
                "since": self._since(INBOX_POSTS_WINDOW),
                "limit": "25",
            },
            needs="pages_read_user_content",
        )
        found = [
            item for post in items(body) for item in self._comments(post) if item.created_at > since
        ]
        newest = max((item.created_at for item in found), default=parse_time(cursor))
        return InboxPage(tuple(found), newest.isoformat() if newest else cursor)

    def _comments(self, post: Mapping[str, object]) -> list[InboxItem]:
        listed = post.get("comments")
        if not isinstance(listed, dict) or not isinstance(post.get("id"), str):
            return []
        found = []
        for comment in items(listed):
            author = comment.get("from")
            author = author if isinstance(author, dict) else {}
            created = parse_time(comment.get("created_time"))
            if created is None or author.get("id") == self.settings.page_id:
                continue  # the Page's own answers are not members' words
            url = comment.get("permalink_url")
            found.append(
                InboxItem(
                    remote_id=str(comment.get("id")),
                    kind="comment",
                    author=str(author.get("name") or "someone"),
                    author_id=str(author["id"]) if author.get("id") else None,
                    text=str(comment.get("message") or ""),
                    url=url if isinstance(url, str) else None,
                    created_at=created,
                    in_reply_to=str(post["id"]),
                )
            )
        return found


def _total(body: Mapping[str, object], edge: str) -> int | None:
    """``summary.total_count`` of an edge asked for with ``.summary(total_count)``."""
    listed = body.get(edge)
    summary = listed.get("summary") if isinstance(listed, dict) else None
    return number(summary.get("total_count")) if isinstance(summary, dict) else None


def _shares(body: Mapping[str, object]) -> int:
    """``shares.count``; Facebook leaves ``shares`` out of a post nobody shared."""
    shares = body.get("shares")
    return (number(shares.get("count")) or 0) if isinstance(shares, dict) else 0
