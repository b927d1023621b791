"""Reading a Bluesky account back: records, counts, notifications and followers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Unpack

import requests

from connectors.base import Extra
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
from connectors.bluesky.shapes import (
    Followers,
    Notification,
    Notifications,
    Post,
    Posts,
    PostView,
    Profile,
    Record,
)
from connectors.errors import Rejected
from connectors.http import Kind, RequestOptions
from connectors.payload import read_model
from connectors.results import AccountMetrics, FollowerRef, InboxItem, InboxPage, Metrics, Published


def _parse_time(value: str | None) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class BlueskyReading(BlueskyXrpc):
    """The reads of :class:`BlueskyConnector`."""

    def _published(self, uri: str, cid: str, created_at: str | None) -> Published:
        match = _AT_URI_RE.match(uri)
        session = self._current_session()
        handle = session.handle or session.did
        url = f"https://bsky.app/profile/{handle}/post/{match['rkey']}" if match else None
        return Published(
            remote_id=uri,
            url=url,
            published_at=_parse_time(created_at),
            extra={"cid": cid, "rkey": match["rkey"] if match else ""},
        )

    # -- reading back ---------------------------------------------------------

    def _read(
        self, nsid: str, *, ok: Sequence[int] = (), **options: Unpack[RequestOptions]
    ) -> requests.Response:
        """A public read: from the AppView when one is set (no session), else through the PDS."""
        appview = self.settings.appview
        if appview:
            url = self._url(nsid, appview)
            return self.http.request("GET", url, kind=Kind.READ, ok=ok, **options)
        return self._xrpc("GET", nsid, kind=Kind.READ, ok=ok, **options)

    def _read_own(
        self, nsid: str, *, ok: Sequence[int] = (), **options: Unpack[RequestOptions]
    ) -> requests.Response:
        """A read of this account's own data, through the PDS with the session."""
        return self._xrpc("GET", nsid, kind=Kind.READ, ok=ok, **options)

    def _get_post(self, rkey: str) -> Published | None:
        """The post record at ``rkey`` in this account's repo, or None."""
        params = {"repo": self._current_session().did, "collection": POST_COLLECTION, "rkey": rkey}
        response = self._read_own("com.atproto.repo.getRecord", ok=(400, 404), params=params)
        if not response.ok:
            if _error_name(response) in _NOT_FOUND:
                return None
            raise self.http.failure(response, Kind.READ)
        record = self._read_answer(response, Record)
        created = record.value.created_at if record.value else None
        uri, cid = self._required(record.uri, "uri"), self._required(record.cid, "cid")
        return self._published(uri, cid, created)

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
            for raw in self._read_answer(response, Posts).posts:
                view = read_model(PostView, raw)
                if view is not None and view.uri is not None:
                    result[view.uri] = Metrics(
                        likes=view.like_count,
                        reposts=view.repost_count,
                        replies=view.reply_count,
                        quotes=view.quote_count,
                        bookmarks=view.bookmark_count,
                        raw=raw,
                    )
        return result

    def account_metrics(self) -> AccountMetrics:
        """Followers, follows and posts from ``app.bsky.actor.getProfile``."""
        actor = self.settings.handle
        if not self.settings.appview:
            actor = self._current_session().did
        response = self._read("app.bsky.actor.getProfile", params={"actor": actor})
        raw = self.http.json_object(response, Kind.READ)
        profile = self.http.read(raw, Profile, Kind.READ)
        return AccountMetrics(
            followers=profile.followers_count,
            following=profile.follows_count,
            posts=profile.posts_count,
            raw=raw,
        )

    def delete(self, remote_id: str, extra: Extra | None = None) -> None:
        """Delete a post of this account by its ``at://`` URI (deleting twice is harmless)."""
        match = _AT_URI_RE.match(remote_id)
        session = self._current_session()
        did = session.did
        if not match or match["collection"] != POST_COLLECTION:
            raise self.error(Rejected, f"not a Bluesky post URI: {remote_id}")
        if match["repo"] not in (did, session.handle):
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
        own_did = self._current_session().did
        items: list[InboxItem] = []
        newest, page_cursor = cursor, None
        for _page in range(INBOX_PAGES):
            params: dict[str, str | int | list[str]] = {"limit": 50, "reasons": list(INBOX_REASONS)}
            if page_cursor:
                params["cursor"] = page_cursor
            nsid = "app.bsky.notification.listNotifications"
            body = self._read_answer(self._read_own(nsid, params=params), Notifications)
            notifications = body.notifications
            for note in notifications:
                at, cid = note.indexed_at or "", note.cid or ""
                if cursor and (at < seen_at or (at == seen_at and cid == seen_cid)):
                    return InboxPage(tuple(items), newest)
                if newest == cursor:  # the first (newest) notification seen
                    newest = f"{at}|{cid}"
                item = _inbox_item(note, own_did)
                if item is not None:
                    items.append(item)
            page_cursor = body.cursor
            if not notifications or page_cursor is None:
                break
        return InboxPage(tuple(items), newest)

    def followers(self, limit: int) -> list[FollowerRef]:
        """At most ``limit`` followers from ``app.bsky.graph.getFollowers`` (100 a page).

        Raises:
            AuthError, RateLimited, Transient.
        """
        actor = self.settings.handle
        if not self.settings.appview:
            actor = self._current_session().did
        found: list[FollowerRef] = []
        page_cursor: str | None = None
        while len(found) < limit:
            params: dict[str, str | int] = {"actor": actor, "limit": 100}
            if page_cursor:
                params["cursor"] = page_cursor
            response = self._read("app.bsky.graph.getFollowers", params=params)
            body = self._read_answer(response, Followers)
            page = [(f.did, f.handle) for f in body.followers if f.did]
            found += [FollowerRef(did, "@" + (handle or "")) for did, handle in page]
            page_cursor = body.cursor
            if not page or page_cursor is None:
                break
        return found[:limit]


def _inbox_item(note: Notification, own_did: str) -> InboxItem | None:
    """An :class:`InboxItem` from a member's mention, reply or quote; None for anything else.

    The ``reasons`` filter of the request is not trusted alone (a server may
    ignore it): likes, reposts and follows are not member-written content, and
    the account's own posts (its thread parts) are not a member's.
    """
    author, record, uri, reason = note.author, note.record, note.uri, note.reason
    if author is None or record is None or uri is None:
        return None
    if reason not in INBOX_REASONS or author.did == own_did:
        return None
    created = _parse_time(record.created_at or note.indexed_at)
    root = record.reply.root.ref() if record.reply and record.reply.root else None
    handle = author.handle or ""
    match = _AT_URI_RE.match(uri)
    url = f"https://bsky.app/profile/{handle}/post/{match['rkey']}" if match else None
    return InboxItem(
        remote_id=uri,
        kind=reason,
        author="@" + handle,
        author_id=author.did,
        text=record.text or "",
        url=url,
        created_at=created,
        in_reply_to=_answered(note, record),
        raw={
            "cid": note.cid,
            "reason": reason,
            "indexedAt": note.indexed_at,
            "root": root,  # what a reply to it names as its thread's root
        },
    )


def _answered(note: Notification, record: Post) -> str | None:
    """The URI of the post a reply answers or a quote embeds (``reasonSubject`` first)."""
    if note.reason_subject is not None and note.reason in ("reply", "quote"):
        return note.reason_subject
    parent = record.reply.parent if record.reply else None
    return parent.uri if parent else None
