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
from typing import ClassVar, TypedDict, TypeVar, Unpack

import requests

from connectors.attachments import MediaItem
from connectors.base import STANDARD_CAPABILITIES, Capability, Extra, Limits, RenderedPost
from connectors.errors import AuthError, ConnectorError, Rejected
from connectors.http import Kind, Outcome, RequestOptions, Verdict
from connectors.payload import Payload, read_model
from connectors.results import AccountMetrics, InboxItem, Metrics, Published, ThreadPart
from connectors.x.answers import (
    _DAILY_HEADERS,
    _METRICS_BATCH,
    _POLL_MINUTES,
    _RECENT_POSTS,
    Created,
    Deleted,
    Me,
    PostCounts,
    Tweets,
    UserCounts,
    _chunks,
    _comparable,
    _describe,
    _errors_only,
    saved_tokens,
)
from connectors.x.doctor import XDoctor
from connectors.x.settings import XSettings
from connectors.x_text import MAX_WEIGHTED_LENGTH, weighted_length
from crosspost.rendering.markdown_forms import TextFormat

__all__ = ["XConnector", "XSettings"]

_P = TypeVar("_P", bound=Payload)


class _Poll(TypedDict):
    options: list[str]
    duration_minutes: int


class _TweetBody(TypedDict, total=False):
    """``POST /2/tweets``."""

    text: str
    reply: dict[str, str]
    media: dict[str, list[str]]
    poll: _Poll


class XConnector(XDoctor):
    """Posts, threads, polls and images on X through API v2, with user-context auth."""

    name: ClassVar[str] = "x"
    #: GET /2/tweets answers this many ids per call.
    metrics_batch: ClassVar[int] = _METRICS_BATCH
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
    capabilities: frozenset[Capability] = STANDARD_CAPABILITIES | {
        Capability.POLLS,
        Capability.REPLY,
        Capability.FIRST_COMMENT,
    }
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

    def _call(
        self, method: str, path: str, kind: Kind, **options: Unpack[RequestOptions]
    ) -> requests.Response:
        """One API request; on a 401 with OAuth 2.0, renew the token and try once more."""
        try:
            return self._send(method, path, kind, **options)
        except AuthError as error:
            if not self.settings.uses_oauth2 or error.status != 401:
                raise
        self.log.info("access token refused; renewing it once")
        self._refresh()
        return self._send(method, path, kind, **options)

    def _send(
        self, method: str, path: str, kind: Kind, **options: Unpack[RequestOptions]
    ) -> requests.Response:
        options["headers"] = {**(options.get("headers") or {}), **self._auth_headers()}
        return self.http.request(method, path, kind=kind, **options)

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

    def _read(self, response: requests.Response, answer: type[_P], kind: Kind) -> _P:
        """The JSON object of a 2xx answer, read as ``answer``."""
        read = read_model(answer, self.http.json_object(response, kind))
        if read is None:
            raise self._unreadable(kind)
        return read

    def _unreadable(self, kind: Kind) -> ConnectorError:
        return self.http.unreadable("X answered without the expected fields", kind)

    # -- daily limit ---------------------------------------------------------------------

    def _check_daily_limit(self) -> None:
        until = saved_tokens(self.state.load()).daily_limit_until
        if until and datetime.fromisoformat(until) > self._now():
            raise self.rate_limited(
                "the 24-hour posting limit of this account or app is used up",
                datetime.fromisoformat(until),
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
        payload: _TweetBody = {"text": text}
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
        remote_id = self._read(response, Created, kind).data.id
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
        return self._read(response, Created, Kind.HARMLESS_WRITE).data.id

    # -- reading back ------------------------------------------------------------------------

    def _me(self, fields: str | None = None) -> Me:
        params = {"user.fields": fields} if fields else None
        response = self._call("GET", "/2/users/me", Kind.READ, params=params)
        return self._read(response, Me, Kind.READ)

    def find_recent(self, idempotency_key: str, text: str) -> Published | None:
        """The account's recent post whose text matches ``text``, else None.

        X has no idempotency key, so the last 20 posts are compared by text
        (NFC, whitespace collapsed, URLs removed because X returns them as t.co links).
        """
        user_id = self._me().data.id
        params: dict[str, str | int] = {"max_results": _RECENT_POSTS, "tweet.fields": "created_at"}
        response = self._call("GET", f"/2/users/{user_id}/tweets", Kind.READ, params=params)
        wanted = _comparable(text)
        for tweet in self._read(response, Tweets, Kind.READ).data:
            if tweet.id and _comparable(tweet.text or "") == wanted:
                remote_id = tweet.id
                url = self._url(remote_id)
                return Published(remote_id, url, tweet.created(), thread_ids=(remote_id,))
        return None

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        """Public metrics of each post, 100 ids per request; deleted posts are left out."""
        found: dict[str, Metrics] = {}
        for batch in _chunks(list(remote_ids), _METRICS_BATCH):
            params = {"ids": ",".join(batch), "tweet.fields": "public_metrics"}
            response = self._call("GET", "/2/tweets", Kind.READ, params=params)
            for tweet in self._read(response, Tweets, Kind.READ).data:
                raw = tweet.public_metrics
                counts = read_model(PostCounts, raw)
                if tweet.id and raw is not None and counts is not None:
                    found[tweet.id] = Metrics(
                        likes=counts.like_count,
                        reposts=counts.retweet_count,
                        replies=counts.reply_count,
                        quotes=counts.quote_count,
                        bookmarks=counts.bookmark_count,
                        views=counts.impression_count,
                        raw=raw,
                    )
        return found

    def account_metrics(self) -> AccountMetrics:
        """Followers, following and post count from ``/2/users/me``."""
        raw = self._me("public_metrics").data.public_metrics
        counts = read_model(UserCounts, raw)
        if raw is None or counts is None:
            raise self._unreadable(Kind.READ)
        return AccountMetrics(
            followers=counts.followers_count,
            following=counts.following_count,
            posts=counts.tweet_count,
            raw=raw,
        )

    def delete(self, remote_id: str, extra: Extra | None = None) -> None:
        """Delete one post.

        Raises:
            Rejected: X answered that nothing was deleted.
        """
        kind = Kind.HARMLESS_WRITE
        answer = self._read(self._call("DELETE", f"/2/tweets/{remote_id}", kind), Deleted, kind)
        if not (answer.data and answer.data.deleted):
            raise self.error(Rejected, f"X did not delete post {remote_id}")

    # -- answering members ---------------------------------------------------------------

    def reply_post(self, item: InboxItem, post: RenderedPost) -> RenderedPost:
        """The post as written: X threads a reply and notifies its author by itself."""
        return post

    def reply(self, item: InboxItem, post: RenderedPost, idempotency_key: str) -> Published:
        """``POST /2/tweets`` with ``reply.in_reply_to_tweet_id`` set to the member's post.

        Raises:
            Rejected: the post to answer is gone, or the answer breaks a limit.
            AuthError, RateLimited, Transient, Unknown.
        """
        self._check_daily_limit()
        parent = Published(item.remote_id, item.url, item.created_at)
        return self._answer(post, parent, parent, idempotency_key)

    def publish_comment(
        self, post: RenderedPost, parent: Published, idempotency_key: str
    ) -> Published:
        """The first comment: a reply to the post, within the same 24-hour posting limit.

        Raises:
            AuthError, RateLimited, Rejected, Transient, Unknown.
        """
        self._check_daily_limit()
        return self._answer(post, parent, parent, idempotency_key)
