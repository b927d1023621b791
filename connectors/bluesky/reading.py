"""Reading a Bluesky account back: records, counts, notifications and followers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import requests

from connectors.base import (
    AccountMetrics,
    Extra,
    FollowerRef,
    InboxItem,
    InboxPage,
    Metrics,
    Published,
    Rejected,
)
from connectors.bluesky.constants import (
    _AT_URI_RE,
    _NOT_FOUND,
    GET_POSTS_BATCH,
    INBOX_PAGES,
    INBOX_REASONS,
    POST_COLLECTION,
    rkey_for,
)
from connectors.bluesky.session import BlueskyXrpc, _error_name
from connectors.http import Kind


def _parse_time(value: Any) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class BlueskyReading(BlueskyXrpc):
    """The reads of :class:`BlueskyConnector`."""

    def _published(self, uri: str, cid: str, created_at: Any) -> Published:
        match = _AT_URI_RE.match(uri)
        handle = self._current_session().get("handle") or self._current_session()["did"]
        url = f"https://bsky.app/profile/{handle}/post/{match['rkey']}" if match else None
        return Published(
            remote_id=uri,
            url=url,
            published_at=_parse_time(created_at),
            extra={"cid": cid, "rkey": match["rkey"] if match else ""},
        )

    # -- reading back ---------------------------------------------------------

    def _read(self, nsid: str, *, ok: Sequence[int] = (), **kwargs: Any) -> requests.Response:
        """A public read: from the AppView when one is set (no session), else through the PDS."""
        appview = self.settings.appview
        if appview:
            url = self._url(nsid, appview)
            return self.http.request("GET", url, kind=Kind.READ, ok=ok, **kwargs)
        return self._xrpc("GET", nsid, kind=Kind.READ, ok=ok, **kwargs)

    def _read_own(self, nsid: str, **kwargs: Any) -> requests.Response:
        """A read of this account's own data, through the PDS with the session."""
        return self._xrpc("GET", nsid, kind=Kind.READ, **kwargs)

    def _get_post(self, rkey: str) -> Published | None:
        """The post record at ``rkey`` in this account's repo, or None."""
        params = {
            "repo": self._current_session()["did"],
            "collection": POST_COLLECTION,
            "rkey": rkey,
        }
        response = self._read_own("com.atproto.repo.getRecord", ok=(400, 404), params=params)
        if not response.ok:
            if _error_name(response) in _NOT_FOUND:
                return None
            raise self.http.failure(response, Kind.READ)
        body = self._object(response)
        value = body.get("value")
        created = value.get("createdAt") if isinstance(value, dict) else None
        return self._published(self._text(body, "uri"), self._text(body, "cid"), created)

    def find_recent(self, idempotency_key: str, text: str) -> Published | None:
        """The post (and thread replies) written at the key's record keys, or None."""
        first = self._get_post(rkey_for(idempotency_key))
        if first is None:
            return None
        ids = [first.remote_id]
        for index in range(1, 100):
            part = self._get_post(rkey_for(f"{idempotency_key}-{index}"))
            if part is None:
                break
            ids.append(part.remote_id)
        return Published(first.remote_id, first.url, first.published_at, tuple(ids), first.extra)

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        """Counts from ``app.bsky.feed.getPosts``, 25 posts a call; unknown posts are left out."""
        result: dict[str, Metrics] = {}
        ids = list(dict.fromkeys(remote_ids))
        for start in range(0, len(ids), GET_POSTS_BATCH):
            batch = ids[start : start + GET_POSTS_BATCH]
            response = self._read("app.bsky.feed.getPosts", params={"uris": batch})
            posts = self._object(response).get("posts")
            for view in posts if isinstance(posts, list) else []:
                if isinstance(view, dict) and isinstance(view.get("uri"), str):
                    result[view["uri"]] = self._metrics(view)
        return result

    @staticmethod
    def _metrics(view: Mapping[str, Any]) -> Metrics:
        def count(key: str) -> int | None:
            value = view.get(key)
            return value if isinstance(value, int) else None

        return Metrics(
            likes=count("likeCount"),
            reposts=count("repostCount"),
            replies=count("replyCount"),
            quotes=count("quoteCount"),
            bookmarks=count("bookmarkCount"),
            raw=dict(view),
        )

    def account_metrics(self) -> AccountMetrics:
        """Followers, follows and posts from ``app.bsky.actor.getProfile``."""
        actor = self.settings.handle
        if not self.settings.appview:
            actor = self._current_session()["did"]
        profile = self._object(self._read("app.bsky.actor.getProfile", params={"actor": actor}))

        def count(key: str) -> int | None:
            value = profile.get(key)
            return value if isinstance(value, int) else None

        return AccountMetrics(
            followers=count("followersCount"),
            following=count("followsCount"),
            posts=count("postsCount"),
            raw=profile,
        )

    def delete(self, remote_id: str, extra: Extra | None = None) -> None:
        """Delete a post of this account by its ``at://`` URI (deleting twice is harmless)."""
        match = _AT_URI_RE.match(remote_id)
        did = self._current_session()["did"]
        if not match or match["collection"] != POST_COLLECTION:
            raise self.error(Rejected, f"not a Bluesky post URI: {remote_id}")
        if match["repo"] not in (did, self._current_session().get("handle")):
            raise self.error(Rejected, f"{remote_id} belongs to another account")
        body = {"repo": did, "collection": POST_COLLECTION, "rkey": match["rkey"]}
        self._xrpc("POST", "com.atproto.repo.deleteRecord", kind=Kind.HARMLESS_WRITE, json=body)

    # -- inbox and followers --------------------------------------------------

    def fetch_inbox(self, cursor: str | None) -> InboxPage:
        """Mentions, replies and quotes newer than ``cursor`` (``indexedAt|cid`` of the newest).

        ``app.bsky.notification.listNotifications`` lists newest first; pages are
        followed back until the notification the cursor names, at most
        :data:`INBOX_PAGES` pages.

        Raises:
            AuthError, RateLimited, Transient.
        """
        seen_at, _, seen_cid = (cursor or "").partition("|")
        own_did = self._current_session()["did"]
        items: list[InboxItem] = []
        newest, page_cursor = cursor, None
        for _page in range(INBOX_PAGES):
            params: dict[str, Any] = {"limit": 50, "reasons": list(INBOX_REASONS)}
            if page_cursor:
                params["cursor"] = page_cursor
            nsid = "app.bsky.notification.listNotifications"
            body = self._object(self._read_own(nsid, params=params))
            notifications = [n for n in body.get("notifications") or [] if isinstance(n, dict)]
            for note in notifications:
                at, cid = str(note.get("indexedAt") or ""), str(note.get("cid") or "")
                if cursor and (at < seen_at or (at == seen_at and cid == seen_cid)):
                    return InboxPage(tuple(items), newest)
                if newest == cursor:  # the first (newest) notification seen
                    newest = f"{at}|{cid}"
                item = _inbox_item(note, own_did)
                if item is not None:
                    items.append(item)
            page_cursor = body.get("cursor")
            if not notifications or not isinstance(page_cursor, str):
                break
        return InboxPage(tuple(items), newest)

    def followers(self, limit: int) -> list[FollowerRef]:
        """At most ``limit`` followers from ``app.bsky.graph.getFollowers`` (100 a page).

        Raises:
            AuthError, RateLimited, Transient.
        """
        actor = self.settings.handle
        if not self.settings.appview:
            actor = self._current_session()["did"]
        found: list[FollowerRef] = []
        page_cursor: str | None = None
        while len(found) < limit:
            params = {
                "actor": actor,
                "limit": 100,
                **({"cursor": page_cursor} if page_cursor else {}),
            }
            body = self._object(self._read("app.bsky.graph.getFollowers", params=params))
            page = [f for f in body.get("followers") or [] if isinstance(f, dict) and f.get("did")]
            found += [FollowerRef(str(f["did"]), "@" + str(f.get("handle") or "")) for f in page]
            page_cursor = body.get("cursor") if isinstance(body.get("cursor"), str) else None
            if not page or page_cursor is None:
                break
        return found[:limit]


def _inbox_item(note: Mapping[str, Any], own_did: str) -> InboxItem | None:
    """An :class:`InboxItem` from a member's mention, reply or quote; None for anything else.

    The ``reasons`` filter of the request is not trusted alone (a server may
    ignore it): likes, reposts and follows are not member-written content, and
    the account's own posts (its thread parts) are not a member's.
    """
    author, record = note.get("author"), note.get("record")
    uri, reason = note.get("uri"), note.get("reason")
    if not isinstance(author, dict) or not isinstance(record, dict) or not isinstance(uri, str):
        return None
    if reason not in INBOX_REASONS or author.get("did") == own_did:
        return None
    try:
        created = _parse_time(record.get("createdAt") or note.get("indexedAt"))
    except (ValueError, TypeError):
        return None
    handle = str(author.get("handle") or "")
    match = _AT_URI_RE.match(uri)
    url = f"https://bsky.app/profile/{handle}/post/{match['rkey']}" if match else None
    return InboxItem(
        remote_id=uri,
        kind=str(reason),
        author="@" + handle,
        author_id=str(author.get("did") or "") or None,
        text=str(record.get("text") or ""),
        url=url,
        created_at=created,
        in_reply_to=_answered(note, record),
        raw={"cid": note.get("cid"), "reason": reason, "indexedAt": note.get("indexedAt")},
    )


def _answered(note: Mapping[str, Any], record: Mapping[str, Any]) -> str | None:
    """The URI of the post a reply answers or a quote embeds (``reasonSubject`` first)."""
    subject = note.get("reasonSubject")
    if isinstance(subject, str) and note.get("reason") in ("reply", "quote"):
        return subject
    reply = record.get("reply")
    parent = reply.get("parent") if isinstance(reply, dict) else None
    if isinstance(parent, dict) and isinstance(parent.get("uri"), str):
        return str(parent["uri"])
    return None
