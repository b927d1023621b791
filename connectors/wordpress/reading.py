"""Talking to the REST API (Basic auth with an application password) and reading back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import quote

import requests

from connectors.base import (
    AccountMetrics,
    ConnectorError,
    Extra,
    InboxItem,
    InboxPage,
    Metrics,
    Published,
)
from connectors.http import HttpConnector, Kind
from connectors.longform import parse_timestamp
from connectors.payload import JSONObject
from connectors.wordpress.api import Wanted, comment_item, to_published
from connectors.wordpress.settings import WordPressSettings

#: Recent posts read to find one whose outcome is unknown.
RECENT_POSTS = 20
#: Comments per page of the inbox (the API's maximum), and pages per read.
COMMENTS_PAGE = 100
INBOX_PAGES = 5
_ANY_STATUS = "publish,future,draft,pending,private"


class WordPressReading(HttpConnector[WordPressSettings]):
    """The reading half of :class:`connectors.wordpress.WordPressConnector`."""

    #: The application password's user, learnt from the first ``users/me``.
    _user_id: int | None = None

    def _unreadable(self, what: str) -> ConnectorError:
        return self.http.unreadable(f"WordPress's {what} answer could not be read", Kind.READ)

    def _get(
        self, path: str, params: dict[str, str], ok: tuple[int, ...] = ()
    ) -> requests.Response:
        return self.http.request("GET", path, kind=Kind.READ, params=params, ok=ok)

    def _list(self, response: requests.Response, what: str) -> list[JSONObject]:
        body = self.http.json(response, Kind.READ)
        if not isinstance(body, list):
            raise self._unreadable(what)
        return [item for item in body if isinstance(item, dict)]

    @staticmethod
    def _total(response: requests.Response) -> int | None:
        """``X-WP-Total``: how many items the whole query has."""
        try:
            return int(response.headers["X-WP-Total"])
        except (KeyError, ValueError):
            return None

    def find_post(self, wanted: Wanted) -> Published | None:
        """The newest of the site's recent posts (any status) that is ``wanted``."""
        params = {
            "per_page": str(RECENT_POSTS),
            "status": _ANY_STATUS,
            "context": "edit",
            "orderby": "date",
            "order": "desc",
        }
        for post in self._list(self._get("/wp/v2/posts", params), "posts"):
            if wanted.matches(post):
                return to_published(post)
        return None

    # -- metrics --------------------------------------------------------------

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        """Approved comments of each post (``X-WP-Total``); posts gone are left out.

        WordPress itself counts no likes or views.

        Raises:
            AuthError, RateLimited, Transient.
        """
        ids = [i for i in dict.fromkeys(remote_ids) if i.isdigit()]
        if not ids:
            return {}
        params = {"include": ",".join(ids), "per_page": "100", "status": _ANY_STATUS}
        params["_fields"] = "id"
        posts = self._list(self._get("/wp/v2/posts", params), "posts")
        found: dict[str, Metrics] = {}
        for remote_id in (str(p["id"]) for p in posts if isinstance(p.get("id"), int)):
            page = self._get("/wp/v2/comments", {"post": remote_id, "per_page": "1"})
            count = self._total(page)
            found[remote_id] = Metrics(replies=count, raw={"comments": count})
        return found

    def account_metrics(self) -> AccountMetrics:
        """Published posts (``X-WP-Total``); WordPress has no followers.

        Raises:
            AuthError, RateLimited, Transient.
        """
        params = {"per_page": "1", "status": "publish", "_fields": "id"}
        return AccountMetrics(posts=self._total(self._get("/wp/v2/posts", params)))

    # -- the inbox: comments ----------------------------------------------------

    def fetch_inbox(self, cursor: str | None) -> InboxPage:
        """Approved comments newer than ``cursor`` (``<date_gmt>|<id>`` of the newest seen).

        Read newest first, page by page, until a comment already seen; the account's
        own comments (its answers) are not a member's and are left out.

        Raises:
            AuthError, RateLimited, Transient.
        """
        seen = _position(cursor)
        params = {"per_page": str(COMMENTS_PAGE), "orderby": "date_gmt", "order": "desc"}
        own = self._own_id()
        fresh: list[InboxItem] = []
        newest = cursor
        for page in range(1, INBOX_PAGES + 1):
            response = self._get("/wp/v2/comments", {**params, "page": str(page)})
            comments = self._list(response, "comments")
            reached = False
            for comment in comments:
                item = comment_item(comment)
                if item is None:
                    continue
                if seen is not None and (item.created_at, int(item.remote_id)) <= seen:
                    reached = True
                    break
                if newest == cursor:
                    newest = f"{item.created_at.astimezone(UTC):%Y-%m-%dT%H:%M:%S}|{item.remote_id}"
                if comment.get("author") != own:
                    fresh.append(item)
            if reached or len(comments) < COMMENTS_PAGE:
                break
        return InboxPage(tuple(reversed(fresh)), newest)

    def _own_id(self) -> int | None:
        """The user the application password belongs to (``GET /wp/v2/users/me``)."""
        if self._user_id is None:
            response = self._get("/wp/v2/users/me", {"_fields": "id,name"})
            body = self.http.json(response, Kind.READ)
            user_id = body.get("id") if isinstance(body, dict) else None
            if not isinstance(user_id, int):
                raise self._unreadable("user")
            self._user_id = user_id
        return self._user_id

    def delete(self, remote_id: str, extra: Extra | None = None) -> None:
        """Move the post to the trash; a post already gone or trashed counts as deleted.

        Raises:
            AuthError, RateLimited, Rejected, Transient.
        """
        path = f"/wp/v2/posts/{quote(remote_id, safe='')}"
        response = self.http.request("DELETE", path, kind=Kind.HARMLESS_WRITE, ok=(404, 410))
        if response.status_code in (404, 410):
            self.log.info("post %s was already gone or in the trash", remote_id)


def _position(cursor: str | None) -> tuple[datetime, int] | None:
    """The (time, id) a cursor stands for; None for none (or one that cannot be read)."""
    stamp, _, last_id = (cursor or "").partition("|")
    moment = parse_timestamp(stamp)
    if moment is None or not last_id.isdigit():
        return None
    return moment, int(last_id)
