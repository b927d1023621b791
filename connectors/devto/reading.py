"""Reading back from Forem: the account's articles, their counts, and its followers."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from urllib.parse import quote

from connectors.base import AccountMetrics, ConnectorError, Extra, FollowerRef, Metrics, Published
from connectors.devto.api import Wanted, article_metrics, to_published
from connectors.devto.settings import DevtoSettings
from connectors.http import HttpConnector, Kind
from connectors.payload import JSONObject

#: Articles per page of ``/api/articles/me/all`` (Forem allows up to 1,000).
ARTICLES_PAGE = 100
#: Pages of the account's own articles read for counts: the 500 newest.
METRICS_PAGES = 5
#: Followers per page of ``/api/followers/users`` (Forem's maximum is 1,000).
FOLLOWERS_PAGE = 1000
#: Pages of followers read at most: beyond 20,000 the count is a lower bound.
FOLLOWER_PAGES = 20


class DevtoReading(HttpConnector[DevtoSettings]):
    """The reading half of :class:`connectors.devto.DevtoConnector`."""

    def _unreadable(self, what: str) -> ConnectorError:
        return self.http.unreadable(f"dev.to's {what} answer could not be read", Kind.READ)

    def _list(self, path: str, params: dict[str, str], what: str) -> list[JSONObject]:
        response = self.http.request("GET", path, kind=Kind.READ, params=params)
        body = self.http.json(response, Kind.READ)
        if not isinstance(body, list):
            raise self._unreadable(what)
        return [item for item in body if isinstance(item, dict)]

    def _my_articles(self, pages: int, per_page: int = ARTICLES_PAGE) -> Iterator[JSONObject]:
        """The account's articles, drafts included, newest first (``/api/articles/me/all``)."""
        for page in range(1, pages + 1):
            params = {"per_page": str(per_page), "page": str(page)}
            articles = self._list("/api/articles/me/all", params, "articles")
            yield from articles
            if len(articles) < per_page:
                return

    def find_article(self, wanted: Wanted, pages: int = 1) -> Published | None:
        """The newest of the account's articles that is ``wanted``, else None."""
        for article in self._my_articles(pages):
            if wanted.matches(article):
                return to_published(article)
        return None

    # -- metrics --------------------------------------------------------------

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        """Reactions, comments and page views of each article; deleted ones are left out.

        The account's own list (``/api/articles/me/all``) is read first: it is the only
        one with ``page_views_count``. An article older than the :data:`METRICS_PAGES`
        read is asked for alone (``GET /api/articles/:id``, no page views).

        Raises:
            AuthError, RateLimited, Transient.
        """
        wanted = set(remote_ids)
        found: dict[str, Metrics] = {}
        for article in self._my_articles(METRICS_PAGES):
            remote_id = str(article.get("id"))
            if remote_id in wanted:
                found[remote_id] = article_metrics(article)
                if len(found) == len(wanted):
                    break
        for remote_id in wanted - set(found):
            metrics = self._public_metrics(remote_id)
            if metrics is not None:
                found[remote_id] = metrics
        return found

    def _public_metrics(self, remote_id: str) -> Metrics | None:
        path = f"/api/articles/{quote(remote_id, safe='')}"
        response = self.http.request("GET", path, kind=Kind.READ, ok=(404,))
        if response.status_code == 404:  # deleted, or an unpublished draft
            self.log.info("article %s is not public; no metrics", remote_id)
            return None
        body = self.http.json(response, Kind.READ)
        if not isinstance(body, dict):
            raise self._unreadable("article")
        return article_metrics(body)

    # -- the account ----------------------------------------------------------

    def _follower_pages(self, limit: int) -> Iterator[list[JSONObject]]:
        pages = min(FOLLOWER_PAGES, -(-limit // FOLLOWERS_PAGE))
        for page in range(1, pages + 1):
            params = {"per_page": str(FOLLOWERS_PAGE), "page": str(page)}
            followers = self._list("/api/followers/users", params, "followers")
            yield followers
            if len(followers) < FOLLOWERS_PAGE:
                return

    def account_metrics(self) -> AccountMetrics:
        """The number of followers (pages of ``/api/followers/users`` counted).

        Raises:
            AuthError, RateLimited, Transient.
        """
        limit = FOLLOWERS_PAGE * FOLLOWER_PAGES
        count = sum(len(page) for page in self._follower_pages(limit))
        return AccountMetrics(followers=count, raw={"followers_capped": count >= limit})

    def followers(self, limit: int) -> list[FollowerRef]:
        """At most ``limit`` followers, newest first.

        Raises:
            AuthError, RateLimited, Transient.
        """
        found = [
            FollowerRef(str(user["user_id"]), "@" + str(user.get("username") or ""))
            for page in self._follower_pages(limit)
            for user in page
            if user.get("user_id") is not None
        ]
        return found[:limit]

    def delete(self, remote_id: str, extra: Extra | None = None) -> None:
        """Unpublish the article (Forem's API cannot delete); one already gone counts as done.

        Raises:
            AuthError, RateLimited, Rejected, Transient.
        """
        path = f"/api/articles/{quote(remote_id, safe='')}"
        body = {"article": {"published": False}}
        response = self.http.request("PUT", path, kind=Kind.HARMLESS_WRITE, json=body, ok=(404,))
        if response.status_code == 404:
            self.log.info("article %s was already gone", remote_id)
