"""Talking to the Admin API (a fresh token when due) and reading back: posts, members."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import requests

from connectors.base import AccountMetrics, ConnectorError, Extra, Metrics, Published
from connectors.ghost.api import Wanted, to_published
from connectors.ghost.auth import LIFETIME, RENEW_BEFORE, admin_token
from connectors.ghost.settings import GhostSettings
from connectors.http import HttpConnector, Kind
from connectors.payload import JSONObject

#: Recent posts read to find one whose outcome is unknown.
RECENT_POSTS = 25
#: What a post's email says about it, kept as raw figures (Ghost has no reactions).
_EMAIL_COUNTS = ("email_count", "delivered_count", "opened_count", "failed_count")


class GhostReading(HttpConnector[GhostSettings]):
    """The reading half of :class:`connectors.ghost.GhostConnector`, and its requests."""

    _token: str | None = None
    _token_until: datetime | None = None

    def _call(self, method: str, path: str, kind: Kind, **kwargs: Any) -> requests.Response:
        """One Admin API request, with a token that is still fresh."""
        self._authorize()
        return self.http.request(method, path, kind=kind, **kwargs)

    def _authorize(self) -> None:
        now = datetime.now(UTC)
        if self._token and self._token_until and now < self._token_until - RENEW_BEFORE:
            return
        key_id, secret = self.settings.key_parts
        token = admin_token(key_id, secret, now)
        if self._token:
            self.http.forget_secret(self._token)
        self.http.add_secret(token)
        self.http.session.headers["Authorization"] = f"Ghost {token}"
        self._token, self._token_until = token, now + LIFETIME

    def _unreadable(self, what: str) -> ConnectorError:
        return self.http.unreadable(f"Ghost's {what} answer could not be read", Kind.READ)

    def _read(self, path: str, params: dict[str, str]) -> JSONObject:
        response = self._call("GET", path, Kind.READ, params=params)
        return self.http.json_object(response, Kind.READ)

    def find_post(self, wanted: Wanted) -> Published | None:
        """The newest of the site's recent posts (drafts included) that is ``wanted``."""
        # Ghost keeps created_at to the second; its ids (ObjectIds) grow within one.
        order = "created_at desc, id desc"
        params = {"limit": str(RECENT_POSTS), "order": order, "formats": "html"}
        posts = self._read("/posts/", params).get("posts")
        if not isinstance(posts, list):
            raise self._unreadable("posts")
        for post in posts:
            if isinstance(post, dict) and wanted.matches(post):
                return to_published(post)
        return None

    # -- reading back ---------------------------------------------------------

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        """No reactions: Ghost's Admin API counts none. An emailed post's email figures
        (sent, delivered, opened) are kept as raw values; deleted posts are left out.

        Raises:
            AuthError, RateLimited, Transient.
        """
        found: dict[str, Metrics] = {}
        for remote_id in dict.fromkeys(remote_ids):
            path = f"/posts/{quote(remote_id, safe='')}/"
            response = self._call("GET", path, Kind.READ, params={"include": "email"}, ok=(404,))
            if response.status_code == 404:
                self.log.info("post %s is gone; no metrics", remote_id)
                continue
            posts = self.http.json_object(response, Kind.READ).get("posts")
            post = posts[0] if isinstance(posts, list) and posts else None
            if not isinstance(post, dict):
                raise self._unreadable("post")
            email = post.get("email")
            sent: JSONObject = email if isinstance(email, dict) else {}
            raw = {k: sent[k] for k in _EMAIL_COUNTS if isinstance(sent.get(k), int)}
            found[remote_id] = Metrics(raw=raw)
        return found

    def _total(self, path: str, params: dict[str, str]) -> int | None:
        """``meta.pagination.total`` of a one-item page of ``path``."""
        meta = self._read(path, {"limit": "1", "fields": "id", **params}).get("meta")
        pagination = meta.get("pagination") if isinstance(meta, dict) else None
        total = pagination.get("total") if isinstance(pagination, dict) else None
        return total if isinstance(total, int) and not isinstance(total, bool) else None

    def account_metrics(self) -> AccountMetrics:
        """Members (as followers too: they are the audience) and published posts.

        Raises:
            AuthError, RateLimited, Transient.
        """
        members = self._total("/members/", {})
        posts = self._total("/posts/", {"filter": "status:published"})
        return AccountMetrics(followers=members, members=members, posts=posts)

    def delete(self, remote_id: str, extra: Extra | None = None) -> None:
        """``DELETE /posts/:id/``; a post already gone counts as deleted.

        Raises:
            AuthError, RateLimited, Rejected, Transient.
        """
        path = f"/posts/{quote(remote_id, safe='')}/"
        response = self._call("DELETE", path, Kind.HARMLESS_WRITE, ok=(404,))
        if response.status_code == 404:
            self.log.info("post %s was already gone", remote_id)
