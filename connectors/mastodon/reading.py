"""Reading back from a Mastodon server: counts, the account, the inbox and followers."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar
from urllib.parse import parse_qsl, quote, urlsplit

import requests

from connectors.base import Extra
from connectors.errors import AuthError, ConnectorError
from connectors.http import Kind, WaitingConnector
from connectors.mastodon.counting import html_to_text, normalised_text
from connectors.mastodon.payloads import (
    Account,
    Notification,
    Status,
    inbox_item,
    newer_id,
    parse_time,
)
from connectors.mastodon.settings import MastodonSettings
from connectors.payload import Payload, read_model
from connectors.results import AccountMetrics, FollowerRef, InboxPage, Metrics, Published

#: Status reads in flight at once when collecting metrics.
METRICS_PARALLEL = 4
#: Pages of notifications read per ``fetch_inbox`` call (40 each).
INBOX_PAGES = 5
#: Followers per page; the API's maximum.
FOLLOWERS_PAGE = 80

_P = TypeVar("_P", bound=Payload)


class MastodonReading(WaitingConnector[MastodonSettings]):
    """The reading half of :class:`connectors.mastodon.MastodonConnector`."""

    #: The token's own account id, learnt from the first ``verify_credentials``.
    _account_id: str | None = None

    def _to_published(self, status: Status | None) -> Published | None:
        """A :class:`Published` from a Status entity, or None when it is not one."""
        if status is None or status.id is None:
            return None
        try:
            created_at = parse_time(status.created_at)
        except ValueError:
            return None
        return Published(
            remote_id=status.id,
            url=status.url or status.uri or None,
            published_at=created_at,
            extra={"uri": status.uri, "instance": self.settings.instance},
        )

    def _entities(self, response: requests.Response, entity: type[_P], what: str) -> list[_P]:
        """The list of entities an answer holds; an answer that is no list is unreadable."""
        body = self.http.json(response, Kind.READ)
        if not isinstance(body, list):
            raise self._unreadable(what)
        return [found for item in body if (found := read_model(entity, item)) is not None]

    # -- reading back ---------------------------------------------------------

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        """Counts of each status (``GET /api/v1/statuses/:id``); 404 ids are left out.

        Raises:
            AuthError, RateLimited, Transient.
        """
        # One request per status (the batch endpoint needs 4.3+), a few at a time; a
        # 429 on any of them ends the round and the collector comes back at retry_at.
        ids = list(dict.fromkeys(remote_ids))
        with (
            self._needs_scope("read:statuses"),
            ThreadPoolExecutor(max_workers=min(METRICS_PARALLEL, len(ids) or 1)) as pool,
        ):
            results = list(pool.map(self._status_metrics, ids))
        return {
            remote_id: metrics
            for remote_id, metrics in zip(ids, results, strict=True)
            if metrics is not None
        }

    def _status_metrics(self, remote_id: str) -> Metrics | None:
        path = f"/api/v1/statuses/{quote(remote_id, safe='')}"
        response = self.http.request("GET", path, kind=Kind.READ, ok=(404,))
        if response.status_code == 404:
            self.log.info("status %s is gone; no metrics", remote_id)
            return None
        return self._metrics(self.http.json(response, Kind.READ))

    def _metrics(self, body: object) -> Metrics:
        status = read_model(Status, body)
        if status is None or status.favourites_count is None:
            raise self._unreadable("status")
        return Metrics(
            likes=status.favourites_count,
            reposts=status.reblogs_count,
            replies=status.replies_count,
            quotes=status.quotes_count,
            raw=status.counts(),
        )

    def _unreadable(self, what: str) -> ConnectorError:
        return self.http.unreadable(f"the server's {what} answer could not be read", Kind.READ)

    def _own_account(self) -> tuple[str, Account]:
        """The token's account, and its id."""
        with self._needs_scope("read:accounts"):
            response = self.http.request(
                "GET", "/api/v1/accounts/verify_credentials", kind=Kind.READ
            )
        account = read_model(Account, self.http.json(response, Kind.READ))
        if account is None or account.id is None:
            raise self._unreadable("account")
        self._account_id = account.id
        return account.id, account

    def _own_id(self) -> str:
        """The token's account id, asked for once per connector."""
        return self._account_id or self._own_account()[0]

    def _own_id_if_allowed(self) -> str | None:
        """The own account id, or None when the token may not read it (the inbox still works)."""
        try:
            return self._own_id()
        except AuthError as error:
            if error.status != 403:
                raise
            self.log.info("own statuses not told apart in the inbox: %s", error.message)
            return None

    @contextmanager
    def _needs_scope(self, scope: str) -> Iterator[None]:
        """Name the OAuth scope a 403 means is missing, so the user knows what to grant."""
        try:
            yield
        except AuthError as error:
            if error.status != 403:
                raise
            raise self.error(
                AuthError, f"the token lacks the {scope} scope ({error.message})", status=403
            ) from None

    def account_metrics(self) -> AccountMetrics:
        """Followers, following and statuses of the token's account.

        Raises:
            AuthError, RateLimited, Transient.
        """
        _, account = self._own_account()
        return AccountMetrics(
            followers=account.followers_count,
            following=account.following_count,
            posts=account.statuses_count,
            raw=account.counts(),
        )

    def delete(self, remote_id: str, extra: Extra | None = None) -> None:
        """``DELETE /api/v1/statuses/:id``; a status that is already gone counts as deleted.

        Raises:
            AuthError, RateLimited, Rejected, Transient, Unknown.
        """
        path = f"/api/v1/statuses/{quote(remote_id, safe='')}"
        response = self.http.request("DELETE", path, kind=Kind.HARMLESS_WRITE, ok=(404,))
        if response.status_code == 404:
            self.log.info("status %s was already gone", remote_id)

    def find_recent(self, idempotency_key: str, text: str) -> Published | None:
        """The newest of the account's last 40 statuses whose text is ``text``, else None.

        Mastodon does not expose idempotency keys, so the match is on the text:
        HTML stripped, whitespace collapsed, mentions shortened as Mastodon shows them.

        Raises:
            AuthError, RateLimited, Transient.
        """
        account_id, _ = self._own_account()
        response = self.http.request(
            "GET",
            f"/api/v1/accounts/{quote(account_id, safe='')}/statuses",
            kind=Kind.READ,
            params={"limit": "40"},
        )
        wanted = normalised_text(text)
        for status in self._entities(response, Status, "statuses"):
            if status.reblog:
                continue
            if normalised_text(html_to_text(status.content or "")) == wanted:
                return self._to_published(status)
        return None

    # -- inbox and followers --------------------------------------------------

    def fetch_inbox(self, cursor: str | None) -> InboxPage:
        """Mentions (and replies, which mention us) newer than ``cursor``, a notification id.

        ``GET /api/v1/notifications?types[]=mention&since_id=…``, paging back to the
        cursor, at most :data:`INBOX_PAGES` pages. Each page repeats the whole query
        and takes only the paging values from ``Link: rel="next"``: some servers
        (Takahē) drop ``types[]`` from that link. Each notification is checked for
        its type anyway, and the account's own statuses are never a member's.

        Raises:
            AuthError: also when the token lacks ``read:notifications``.
            RateLimited, Transient.
        """
        query: list[tuple[str, str]] = [("types[]", "mention"), ("limit", "40")]
        query += [("since_id", cursor)] if cursor else []
        own_id = self._own_id_if_allowed()
        params: list[tuple[str, str]] | None = query
        items, newest = [], cursor
        for _page in range(INBOX_PAGES):
            with self._needs_scope("read:notifications"):
                response = self.http.request(
                    "GET", "/api/v1/notifications", kind=Kind.READ, params=params
                )
            body = self._entities(response, Notification, "notifications")
            for notification in body:
                newest = newer_id(newest, notification)
                item = inbox_item(notification, own_id)
                if item is not None:
                    items.append(item)
            params = self._next_page(response, query) if body else None
            if params is None:
                break
        return InboxPage(tuple(items), newest)

    def _next_page(
        self, response: requests.Response, query: list[tuple[str, str]]
    ) -> list[tuple[str, str]] | None:
        """``query`` plus the paging values (``max_id``…) of ``Link: rel="next"``; None at the end.

        The link only moves the window; the filters are always ours, whatever the
        server left out of it.
        """
        url = response.links.get("next", {}).get("url")
        if not isinstance(url, str):
            return None
        if urlsplit(url).netloc != urlsplit(self.settings.instance).netloc:
            self.log.warning("ignoring a pagination link to another host")
            return None
        ours = {name for name, _ in query}
        paging = [(k, v) for k, v in parse_qsl(urlsplit(url).query) if k not in ours]
        return query + paging if paging else None

    def followers(self, limit: int) -> list[FollowerRef]:
        """At most ``limit`` followers (``GET /api/v1/accounts/:id/followers``, ``Link`` pages).

        Raises:
            AuthError: also when the token lacks ``read:accounts``.
            RateLimited, Transient.
        """
        path = f"/api/v1/accounts/{quote(self._own_id(), safe='')}/followers"
        query = [("limit", str(FOLLOWERS_PAGE))]
        params: list[tuple[str, str]] | None = query
        found: list[FollowerRef] = []
        while params is not None and len(found) < limit:
            with self._needs_scope("read:accounts"):
                response = self.http.request("GET", path, kind=Kind.READ, params=params)
            body = self._entities(response, Account, "followers")
            found += [FollowerRef(a.id, "@" + (a.acct or "")) for a in body if a.id]
            params = self._next_page(response, query) if body else None
        return found[:limit]
