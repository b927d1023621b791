"""X (Twitter) API v2 connector.

API pages used:
    https://docs.x.com/x-api/posts/create-post (POST /2/tweets)
    https://docs.x.com/x-api/posts/delete-post (DELETE /2/tweets/:id)
    https://docs.x.com/x-api/posts/get-posts-by-ids (GET /2/tweets)
    https://docs.x.com/x-api/users/get-my-user (GET /2/users/me)
    https://docs.x.com/x-api/users/get-posts (GET /2/users/:id/tweets)
    https://docs.x.com/x-api/media/image-or-subtitle-media-upload (POST /2/media/upload)
    https://docs.x.com/x-api/media/create-media-metadata (POST /2/media/metadata)
    https://docs.x.com/x-api/media/quickstart/best-practices (4 photos per post)
    https://docs.x.com/resources/fundamentals/authentication/oauth-2-0/authorization-code
    https://docs.x.com/x-api/fundamentals/rate-limits
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

import requests

from connectors.base import (
    AccountMetrics,
    AuthError,
    Capability,
    ConnectorError,
    Extra,
    Limits,
    MediaItem,
    Metrics,
    Published,
    RateLimited,
    Rejected,
    RenderedPost,
    ThreadPart,
)
from connectors.http import Kind, Outcome, Verdict
from connectors.x.answers import (
    _DAILY_HEADERS,
    _METRICS_BATCH,
    _POLL_MINUTES,
    _RECENT_POSTS,
    _chunks,
    _comparable,
    _describe,
    _errors_only,
)
from connectors.x.auth import XAuth
from connectors.x.settings import XSettings
from connectors.x_text import MAX_WEIGHTED_LENGTH, weighted_length
from crosspost.markdown import TextFormat

__all__ = ["XConnector", "XSettings"]


class XConnector(XAuth):
    """Posts, threads, polls and images on X through API v2, with user-context auth."""

    name: ClassVar[str] = "x"
    #: Plain text: Markdown links spelt out as ``text (url)``.
    text_format: ClassVar[TextFormat] = TextFormat.PLAIN
    limits: ClassVar[Limits] = Limits(
        max_length=MAX_WEIGHTED_LENGTH,
        unit="weighted characters",
        max_media=4,
        max_media_bytes=5 * 1024 * 1024,
        media_types=frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"}),
        alt_text_max=1000,
        max_poll_options=4,
        max_poll_option_length=25,
    )
    capabilities: frozenset[Capability] = frozenset(
        {
            Capability.THREADS,
            Capability.POLLS,
            Capability.MEDIA,
            Capability.RECONCILE,
            Capability.DELETE,
        }
    )
    base_url: ClassVar[str] = "https://api.x.com"
    docs_url: ClassVar[str] = "https://docs.x.com/x-api/posts/create-post"

    Settings = XSettings

    def measure(self, text: str) -> int:
        """X's weighted length: URLs 23, emoji and CJK 2, Latin 1 (twitter-text v3)."""
        return weighted_length(text)

    def _check_poll(self, post: RenderedPost, limits: Limits) -> list[str]:
        """The shared poll rules plus X's (no media with a poll, 2–4 options, 5 min–7 d)."""
        problems = super()._check_poll(post, limits)
        poll = post.poll
        if poll is None:
            return problems
        minutes = int(poll.duration.total_seconds() // 60)
        if not _POLL_MINUTES[0] <= minutes <= _POLL_MINUTES[1]:
            problems.append(f"poll lasts {minutes} minutes (X takes 5 to 10080)")
        if len(poll.options) < 2:
            problems.append("a poll on X needs at least 2 options")
        if poll.multiple:
            problems.append("X polls take a single choice only")
        if post.media:
            problems.append("X does not allow media and a poll on the same post")
        return problems

    # -- requests -------------------------------------------------------------------

    def _call(self, method: str, path: str, kind: Kind, **kwargs: Any) -> requests.Response:
        """One API request; on a 401 with OAuth 2.0, renew the token and try once more."""
        try:
            return self._send(method, path, kind, **kwargs)
        except AuthError as error:
            if not self.settings.uses_oauth2 or error.status != 401:
                raise
        self.log.info("access token refused; renewing it once")
        self._refresh()
        return self._send(method, path, kind, **kwargs)

    def _send(self, method: str, path: str, kind: Kind, **kwargs: Any) -> requests.Response:
        headers = {**kwargs.pop("headers", {}), **self._auth_headers()}
        return self.http.request(method, path, kind=kind, headers=headers, **kwargs)

    def classify(self, response: requests.Response) -> Verdict | None:
        """A 403 for a duplicate is a refusal of the content; a 200 with only ``errors`` too."""
        status = response.status_code
        if status == 403:
            reason = _describe(response)
            if "duplicate" in reason.lower():
                message = (
                    "X refused the post as a duplicate: the same text was already posted "
                    f"from this account ({reason})"
                )
                return Verdict(Outcome.REJECTED, message, status)
            return Verdict(Outcome.AUTH, f"credentials refused: {reason}", status)
        if response.ok and _errors_only(response):
            return Verdict(Outcome.REJECTED, _describe(response), status)
        return None

    def _body(self, response: requests.Response, kind: Kind) -> dict[str, Any]:
        """The JSON object of a 2xx answer."""
        return self.http.json_object(response, kind)

    def _unreadable(self, kind: Kind) -> ConnectorError:
        return self.http.unreadable("X answered without the expected fields", kind)

    # -- daily limit ---------------------------------------------------------------------

    def _check_daily_limit(self) -> None:
        until = self.state.load().get("daily_limit_until")
        if until and datetime.fromisoformat(until) > self._now():
            raise self.error(
                RateLimited,
                "the 24-hour posting limit of this account or app is used up",
                retry_at=datetime.fromisoformat(until),
            )

    def _remember_daily_limit(self, headers: Mapping[str, str]) -> None:
        for remaining, reset in _DAILY_HEADERS:
            if headers.get(remaining, "").strip() == "0" and headers.get(reset):
                try:
                    until = datetime.fromtimestamp(float(headers[reset]), UTC)
                except (ValueError, OverflowError):
                    continue
                self.state.save({**self.state.load(), "daily_limit_until": until.isoformat()})
                self.log.info("24-hour posting limit reached; next post after %s", until)

    # -- publishing ------------------------------------------------------------------------

    def _publish(self, post: RenderedPost, idempotency_key: str) -> Published:
        self._check_daily_limit()
        return super()._publish(post, idempotency_key)

    def _publish_part(self, post: RenderedPost, part: ThreadPart) -> Published:
        index, text, reply_to = (part.index, part.text, part.reply_to)
        payload: dict[str, Any] = {"text": text}
        if reply_to is not None:
            payload["reply"] = {"in_reply_to_tweet_id": reply_to.remote_id}
        if index == 0 and post.media:
            payload["media"] = {"media_ids": [self._upload(item) for item in post.media]}
        if index == 0 and post.poll is not None:
            minutes = int(post.poll.duration.total_seconds() // 60)
            payload["poll"] = {"options": list(post.poll.options), "duration_minutes": minutes}
        kind = Kind.PUBLISHING_WRITE
        response = self._call("POST", "/2/tweets", kind, json=payload)
        self._remember_daily_limit(response.headers)
        try:
            remote_id = str(self._body(response, kind)["data"]["id"])
        except (KeyError, TypeError):
            raise self._unreadable(kind) from None
        # The create answer carries only id and text, so the time is ours.
        return Published(remote_id, self._url(remote_id), datetime.now(UTC))

    @staticmethod
    def _url(remote_id: str) -> str:
        return f"https://x.com/i/web/status/{remote_id}"

    def _upload(self, item: MediaItem) -> str:
        """Upload one image (simple upload) and set its alt text; returns the media id.

        Nothing is posted yet, so a failure here is ``Transient`` rather than ``Unknown``.
        """
        try:
            content = item.path.read_bytes()
        except OSError as error:
            raise self.error(Rejected, f"{item.path.name}: {error.strerror}") from None
        category = "tweet_gif" if item.mime_type == "image/gif" else "tweet_image"
        response = self._call(
            "POST",
            "/2/media/upload",
            Kind.HARMLESS_WRITE,
            data={"media_category": category},
            files={"media": (item.path.name, content, item.mime_type)},
        )
        media_id = self._media_id(response)
        if item.alt:
            metadata = {"alt_text": {"text": item.alt}}
            self._call(
                "POST",
                "/2/media/metadata",
                Kind.HARMLESS_WRITE,
                json={"id": media_id, "metadata": metadata},
            )
        return media_id

    def _media_id(self, response: requests.Response) -> str:
        try:
            return str(self._body(response, Kind.HARMLESS_WRITE)["data"]["id"])
        except (KeyError, TypeError):
            raise self._unreadable(Kind.HARMLESS_WRITE) from None

    # -- reading back ------------------------------------------------------------------------

    def _me(self, fields: str | None = None) -> dict[str, Any]:
        params = {"user.fields": fields} if fields else None
        response = self._call("GET", "/2/users/me", Kind.READ, params=params)
        data = self._body(response, Kind.READ).get("data")
        if not isinstance(data, dict) or "id" not in data:
            raise self._unreadable(Kind.READ)
        return data

    def find_recent(self, idempotency_key: str, text: str) -> Published | None:
        """The account's recent post whose text matches ``text``, else None.

        X has no idempotency key, so the last 20 posts are compared by text
        (NFC, whitespace collapsed, URLs removed because X returns them as t.co links).
        """
        user_id = self._me()["id"]
        params = {"max_results": _RECENT_POSTS, "tweet.fields": "created_at"}
        response = self._call("GET", f"/2/users/{user_id}/tweets", Kind.READ, params=params)
        wanted = _comparable(text)
        for tweet in self._body(response, Kind.READ).get("data") or []:
            if isinstance(tweet, dict) and _comparable(str(tweet.get("text", ""))) == wanted:
                remote_id = str(tweet["id"])
                created = tweet.get("created_at")
                when = (
                    datetime.fromisoformat(created.replace("Z", "+00:00"))
                    if isinstance(created, str)
                    else datetime.now(UTC)
                )
                return Published(remote_id, self._url(remote_id), when, thread_ids=(remote_id,))
        return None

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        """Public metrics of each post, 100 ids per request; deleted posts are left out."""
        found: dict[str, Metrics] = {}
        for batch in _chunks(list(remote_ids), _METRICS_BATCH):
            params = {"ids": ",".join(batch), "tweet.fields": "public_metrics"}
            body = self._body(self._call("GET", "/2/tweets", Kind.READ, params=params), Kind.READ)
            for tweet in body.get("data") or []:
                counts = tweet.get("public_metrics") if isinstance(tweet, dict) else None
                if isinstance(counts, dict):
                    found[str(tweet["id"])] = Metrics(
                        likes=counts.get("like_count"),
                        reposts=counts.get("retweet_count"),
                        replies=counts.get("reply_count"),
                        quotes=counts.get("quote_count"),
                        bookmarks=counts.get("bookmark_count"),
                        views=counts.get("impression_count"),
                        raw=counts,
                    )
        return found

    def account_metrics(self) -> AccountMetrics:
        """Followers, following and post count from ``/2/users/me``."""
        counts = self._me("public_metrics").get("public_metrics")
        if not isinstance(counts, dict):
            raise self._unreadable(Kind.READ)
        return AccountMetrics(
            followers=counts.get("followers_count"),
            following=counts.get("following_count"),
            posts=counts.get("tweet_count"),
            raw=counts,
        )

    def delete(self, remote_id: str, extra: Extra | None = None) -> None:
        """Delete one post.

        Raises:
            Rejected: X answered that nothing was deleted.
        """
        kind = Kind.HARMLESS_WRITE
        body = self._body(self._call("DELETE", f"/2/tweets/{remote_id}", kind), kind)
        if not (isinstance(body.get("data"), dict) and body["data"].get("deleted")):
            raise self.error(Rejected, f"X did not delete post {remote_id}")
