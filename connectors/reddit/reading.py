"""Reading back from Reddit: scores, karma and subscribers, own submissions, the inbox."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from connectors.base import AccountMetrics, InboxItem, InboxPage, Metrics, Published
from connectors.http import Kind
from connectors.reddit.answers import (
    INFO_BATCH,
    Link,
    Message,
    after,
    comparable,
    created,
    fullname,
    parse_all,
    things,
    web_url,
)
from connectors.reddit.api import RedditApi

#: Own submissions read to reconcile an uncertain publish (newest first).
RECENT_SUBMISSIONS = 25
#: Without a record of the attempt, only posts this recent can be the one we sent.
RECONCILE_WINDOW = timedelta(days=2)
#: A post made this long before the attempt started cannot be its result (clock skew).
_SKEW = timedelta(minutes=5)
#: Inbox pages (100 messages each) read per ``fetch_inbox`` call.
INBOX_PAGES = 3
#: Inbox message types that are member-written content about the account.
_INBOX_KINDS = {"post_reply": "reply", "comment_reply": "reply", "username_mention": "mention"}


@dataclass(frozen=True)
class Attempt:
    """What this process sent under an idempotency key, to recognise it later."""

    title: str
    subreddit: str
    kind: str
    url: str | None
    started: datetime


class RedditReading(RedditApi):
    """The reading half of :class:`connectors.reddit.RedditConnector`."""

    #: Submissions sent in this process, by idempotency key (what ``find_recent`` matches).
    attempts: dict[str, Attempt]

    # -- metrics --------------------------------------------------------------

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        """Score, comments and crossposts of each post, 100 per ``GET /api/info``.

        Ids Reddit does not return are left out.

        Raises:
            AuthError, RateLimited, Transient.
        """
        asked = {fullname(remote_id): remote_id for remote_id in dict.fromkeys(remote_ids)}
        names = list(asked)
        found: dict[str, Metrics] = {}
        for start in range(0, len(names), INFO_BATCH):
            batch = ",".join(names[start : start + INFO_BATCH])
            body = self._api_json("GET", "/api/info", Kind.READ, params={"id": batch})
            for link in parse_all(Link, things(body, "t3")):
                if link.name in asked:
                    found[asked[link.name]] = _metrics(link)
        return found

    def account_metrics(self) -> AccountMetrics:
        """The user's followers and karma; the subreddit's subscribers when configured.

        Raises:
            AuthError, RateLimited, Transient.
        """
        me = self._api_json("GET", "/api/v1/me", Kind.READ)
        raw: dict[str, int] = {
            key: value
            for key in ("link_karma", "comment_karma", "total_karma")
            if isinstance(value := me.get(key), int)
        }
        profile = me.get("subreddit")
        followers = profile.get("subscribers") if isinstance(profile, dict) else None
        if isinstance(followers, int):
            raw["profile_followers"] = followers
        if self.settings.subscribers:
            followers = self._subscribers()
            raw["subreddit_subscribers"] = followers
        return AccountMetrics(followers=followers if isinstance(followers, int) else None, raw=raw)

    def _subscribers(self) -> int:
        path = f"/r/{quote(self.settings.subreddit)}/about"
        about = self._api_json("GET", path, Kind.READ)
        data = about.get("data")
        count = data.get("subscribers") if isinstance(data, dict) else None
        if not isinstance(count, int):
            raise self.http.unreadable(
                f"r/{self.settings.subreddit} has no subscriber count", Kind.READ
            )
        return count

    # -- reconciling ----------------------------------------------------------

    def find_recent(self, idempotency_key: str, text: str) -> Published | None:
        """The post an uncertain publish made, from the user's newest 25 submissions.

        A submission matches when it is in the account's subreddit, was made after the
        attempt started (else in the last two days), and has the attempt's title and
        link (when this process made the attempt), or the body ``text`` (self posts,
        and link posts that carry text). Reddit has no idempotency key to search for.

        Raises:
            AuthError, RateLimited, Transient.
        """
        attempt = self.attempts.get(idempotency_key)
        path = f"/user/{quote(self.settings.username)}/submitted"
        params = {"limit": str(RECENT_SUBMISSIONS), "sort": "new"}
        body = self._api_json("GET", path, Kind.READ, params=params)
        since = attempt.started - _SKEW if attempt else self.http.clock() - RECONCILE_WINDOW
        for link in parse_all(Link, things(body, "t3")):
            mine = link.subreddit.lower() == self.settings.subreddit.lower()
            if mine and created(link) >= since and _matches(link, attempt, text):
                return self._published(link)
        return None

    def _published(self, link: Link) -> Published:
        return Published(
            remote_id=link.name,
            url=web_url(link.permalink) or link.url or None,
            published_at=created(link),
            thread_ids=(link.name,),
            extra={"subreddit": link.subreddit, "kind": "self" if link.is_self else "link"},
        )

    # -- the inbox ------------------------------------------------------------

    def fetch_inbox(self, cursor: str | None) -> InboxPage:
        """Replies to the account's posts and comments, and mentions of the user.

        ``GET /message/inbox`` (never marking anything read), newest first, paging back
        until the cursor (the newest ``created_utc`` seen) or :data:`INBOX_PAGES`.
        Private messages and the user's own messages are not member-written content.

        Raises:
            AuthError, RateLimited, Transient.
        """
        since = float(cursor) if cursor and _is_number(cursor) else None
        items: list[InboxItem] = []
        newest = since
        params = {"limit": "100", "mark": "false"}
        for page in range(INBOX_PAGES):
            body = self._api_json("GET", "/message/inbox", Kind.READ, params=params)
            messages = parse_all(Message, things(body, "t1"))
            fresh = [m for m in messages if since is None or m.created_utc >= since]
            items += [item for m in fresh if (item := self._inbox_item(m)) is not None]
            newest = max((m.created_utc for m in messages), default=newest) if page == 0 else newest
            next_page = after(body)
            if since is None or next_page is None or len(fresh) < len(messages):
                break
            params = {**params, "after": next_page}
        return InboxPage(tuple(items), str(int(newest)) if newest else cursor)

    def _inbox_item(self, message: Message) -> InboxItem | None:
        kind = _INBOX_KINDS.get(message.type)
        if kind is None or message.author.lower() == self.settings.username.lower():
            return None
        return InboxItem(
            remote_id=message.name,
            kind=kind,
            author=f"u/{message.author}",
            author_id=message.author_fullname,
            text=message.body,
            url=web_url(message.context),
            created_at=created(message),
            in_reply_to=message.parent_id,
            raw={"type": message.type, "subreddit": message.subreddit},
        )


def _metrics(link: Link) -> Metrics:
    raw = {
        key: value
        for key in ("score", "ups", "upvote_ratio", "num_comments", "num_crossposts")
        if (value := getattr(link, key)) is not None
    }
    return Metrics(
        likes=link.score,
        reposts=link.num_crossposts,
        replies=link.num_comments,
        views=link.view_count,
        raw=raw,
    )


def _matches(link: Link, attempt: Attempt | None, text: str) -> bool:
    """Whether ``link`` is what the attempt (or, without one, the text) sent."""
    if attempt is not None:
        if comparable(link.title) != comparable(attempt.title):
            return False
        if attempt.kind == "link":
            return link.url == attempt.url
        return comparable(link.selftext) == comparable(text)
    return bool(comparable(text)) and comparable(link.selftext) == comparable(text)


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True
