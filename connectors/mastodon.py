"""Mastodon (and compatible servers): statuses, threads, media, polls and counts.

API pages used:

- https://docs.joinmastodon.org/methods/statuses/ (post, view, delete; ``Idempotency-Key``)
- https://docs.joinmastodon.org/methods/media/ (``POST /api/v2/media``, 200/202, 206 polling)
- https://docs.joinmastodon.org/methods/instance/#v2 (``configuration`` limits)
- https://docs.joinmastodon.org/methods/accounts/#verify_credentials and #statuses
- https://docs.joinmastodon.org/entities/Status/ and /entities/Instance/
- https://docs.joinmastodon.org/methods/notifications/ (``types[]=mention``, ``since_id``)
- https://docs.joinmastodon.org/methods/accounts/#followers and
  https://docs.joinmastodon.org/api/guidelines/#pagination (``Link`` headers)
- Counting: ``app/validators/status_length_validator.rb`` and ``Account::MENTION_RE`` in
  https://github.com/mastodon/mastodon
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime, timedelta
from html.parser import HTMLParser
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qsl, quote, urlsplit

from pydantic import ConfigDict, Field, SecretStr, field_validator

from connectors.base import (
    AccountMetrics,
    AuthError,
    Capability,
    ConnectorError,
    ConnectorSettings,
    ConnectorState,
    Extra,
    FollowerRef,
    InboxItem,
    InboxPage,
    Limits,
    MediaItem,
    Metrics,
    Published,
    Rejected,
    RenderedPost,
    ThreadPart,
    Transient,
)
from connectors.http import HttpClient, HttpConnector, Kind
from crosspost.text import find_urls, grapheme_length

#: Status reads in flight at once when collecting metrics.
METRICS_PARALLEL = 4
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

__all__ = ["MastodonConnector"]

Visibility = Literal["public", "unlisted", "private", "direct"]
VISIBILITIES: frozenset[str] = frozenset({"public", "unlisted", "private", "direct"})

#: Pages of notifications read per ``fetch_inbox`` call (40 each).
INBOX_PAGES = 5
#: Followers per page; the API's maximum.
FOLLOWERS_PAGE = 80
#: Every URL counts this many characters unless the instance says otherwise.
DEFAULT_URL_WIDTH = 23
#: ``Account::MENTION_RE``: ``@user`` optionally followed by ``@domain``.
MENTION_RE = re.compile(
    r"(?<![=/\w])@(?P<user>[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@\w+(?:[.-]+\w+)*)?",
    re.IGNORECASE,
)
_WHITESPACE = re.compile(r"\s+")
_DEFAULT_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "image/heic",
        "image/heif",
        "image/avif",
        "video/mp4",
        "video/webm",
        "video/quicktime",
        "audio/mpeg",
        "audio/ogg",
        "audio/wav",
        "audio/flac",
    }
)


# --------------------------------------------------------------------------- counting


def countable_text(text: str, url_width: int = DEFAULT_URL_WIDTH) -> str:
    """``text`` as Mastodon counts it: URLs as ``url_width`` x's, ``@u@host`` as ``@u``.

    Mirrors ``StatusLengthValidator#countable_text``: a blank text counts nothing,
    and a mention inside a URL is part of the URL.
    """
    if not text.strip():
        return ""
    urls = [(span.start, span.end, "x" * url_width) for span in find_urls(text)]
    mentions = [
        (m.start(), m.end(), "@" + m.group("user"))
        for m in MENTION_RE.finditer(text)
        if not any(start <= m.start() < end for start, end, _ in urls)
    ]
    pieces: list[str] = []
    position = 0
    for start, end, substitute in sorted(urls + mentions):
        pieces.append(text[position:start])
        pieces.append(substitute)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def status_length(text: str, spoiler_text: str = "", url_width: int = DEFAULT_URL_WIDTH) -> int:
    """Length of a status with its content warning, as Mastodon validates it."""
    return grapheme_length(spoiler_text + countable_text(text, url_width))


class _TextOnly(HTMLParser):
    """Collects the visible text of a status's HTML ``content``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("p", "br"):
            self.pieces.append(" ")

    def handle_data(self, data: str) -> None:
        self.pieces.append(data)


def normalised_text(text: str) -> str:
    """Whitespace collapsed and ``@user@domain`` shortened, as Mastodon's HTML shows it."""
    text = MENTION_RE.sub(lambda m: "@" + m.group("user"), text)
    return _WHITESPACE.sub(" ", text).strip()


def html_to_text(html: str) -> str:
    """The text a reader sees in a status's HTML ``content`` (tags dropped)."""
    parser = _TextOnly()
    parser.feed(html)
    parser.close()
    return "".join(parser.pieces)


def _parse_time(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("timestamp without a time zone")
    return parsed


# --------------------------------------------------------------------------- instance


@dataclass(frozen=True)
class InstanceConfig:
    """What ``GET /api/v2/instance`` says this server accepts."""

    max_characters: int = 500
    url_width: int = DEFAULT_URL_WIDTH
    max_media: int = 4
    image_size_limit: int = 16 * 1024 * 1024
    video_size_limit: int = 99 * 1024 * 1024
    media_types: frozenset[str] = _DEFAULT_TYPES
    description_limit: int = 1500
    poll_max_options: int = 4
    poll_option_length: int = 50
    poll_min_expiration: int = 300
    poll_max_expiration: int = 2629746

    @classmethod
    def from_instance(cls, body: Any) -> InstanceConfig:
        """Read the ``configuration`` of an Instance entity; missing values keep defaults.

        Raises:
            ValueError: the body is not an Instance or a value has the wrong type.
        """
        config = body["configuration"] if isinstance(body, dict) else None
        if not isinstance(config, dict):
            raise ValueError("no configuration in the instance answer")
        statuses = config.get("statuses") or {}
        media = config.get("media_attachments") or {}
        polls = config.get("polls") or {}
        default = cls()
        types = media.get("supported_mime_types")
        return cls(
            max_characters=_int(statuses, "max_characters", default.max_characters),
            url_width=_int(statuses, "characters_reserved_per_url", default.url_width),
            max_media=_int(statuses, "max_media_attachments", default.max_media),
            image_size_limit=_int(media, "image_size_limit", default.image_size_limit),
            video_size_limit=_int(media, "video_size_limit", default.video_size_limit),
            media_types=frozenset(map(str, types)) if types else default.media_types,
            description_limit=_int(media, "description_limit", default.description_limit),
            poll_max_options=_int(polls, "max_options", default.poll_max_options),
            poll_option_length=_int(polls, "max_characters_per_option", default.poll_option_length),
            poll_min_expiration=_int(polls, "min_expiration", default.poll_min_expiration),
            poll_max_expiration=_int(polls, "max_expiration", default.poll_max_expiration),
        )

    def to_dict(self) -> dict[str, Any]:
        """These values as JSON-ready data (for the store)."""
        data = asdict(self)
        data["media_types"] = sorted(self.media_types)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InstanceConfig:
        """The values :meth:`to_dict` gave; unknown keys are ignored.

        Raises:
            TypeError, ValueError: a value has the wrong type.
        """
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["media_types"] = frozenset(map(str, values.get("media_types", _DEFAULT_TYPES)))
        for name, value in values.items():
            if name != "media_types" and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError(f"{name} is not a count: {value!r}")
        return cls(**values)

    def limits(self) -> Limits:
        """These values as connector limits."""
        return Limits(
            max_length=self.max_characters,
            max_media=self.max_media,
            max_media_bytes=self.image_size_limit,
            media_types=self.media_types,
            alt_text_max=self.description_limit,
            max_poll_options=self.poll_max_options,
            max_poll_option_length=self.poll_option_length,
        )


def _int(section: Any, key: str, default: int) -> int:
    value = section.get(key) if isinstance(section, dict) else None
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{key} is not a count: {value!r}")
    return value


# --------------------------------------------------------------------------- connector


class MastodonConnector(HttpConnector["MastodonConnector.Settings"]):
    """Publishes statuses to one account on a Mastodon server.

    Args:
        account: account alias from ``schedule.yaml``.
        settings: a :class:`MastodonConnector.Settings`.
        state: unused (Mastodon tokens do not rotate).
        sleep: waits between media processing checks; tests pass a no-op.
        media_poll_attempts: how often to ask whether an upload is processed.
        media_poll_interval: seconds between those checks.
    """

    name: ClassVar[str] = "mastodon"
    #: Mastodon keeps keys for an hour (PostStatusService); a margin for clock drift.
    idempotency_window: ClassVar[timedelta | None] = timedelta(minutes=50)
    limits: ClassVar[Limits] = InstanceConfig().limits()
    capabilities: frozenset[Capability] = frozenset(
        {
            Capability.THREADS,
            Capability.POLLS,
            Capability.MEDIA,
            Capability.IDEMPOTENCY_KEY,
            Capability.RECONCILE,
            Capability.DELETE,
            Capability.INBOX,
            Capability.FOLLOWER_LIST,
        }
    )
    docs_url: ClassVar[str] = "https://docs.joinmastodon.org/methods/statuses/"

    class Settings(ConnectorSettings):
        """The ``accounts:`` entry of a Mastodon account."""

        # Validation errors would otherwise echo the whole entry, token included.
        model_config = ConfigDict(hide_input_in_errors=True)

        #: Base URL of the server, ``https://`` only.
        instance: str
        #: User token with ``write:statuses write:media read:statuses read:accounts
        #: read:notifications`` (each read scope is needed by one collect step).
        access_token: SecretStr
        #: Default visibility; the account's own default when unset.
        visibility: Visibility | None = None
        #: Default ISO 639-1 language of statuses; the server guesses when unset.
        language: str | None = Field(default=None, pattern=r"^[a-z]{2}$")
        #: Character limit used by the offline ``check`` (the instance's value wins online).
        max_characters: int | None = Field(default=None, gt=0)

        @field_validator("instance")
        @classmethod
        def _https_origin(cls, value: str) -> str:
            parts = urlsplit(value.strip())
            # plain http only for a server on this machine (a test or a local instance)
            local = parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS
            if not (parts.scheme == "https" or local) or not parts.hostname:
                raise ValueError("must be an https:// URL such as https://mastodon.social")
            if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
                raise ValueError("must be the server's address only, without a path")
            return f"{parts.scheme}://{parts.netloc}"

        @field_validator("access_token")
        @classmethod
        def _not_blank(cls, value: SecretStr) -> SecretStr:
            if not value.get_secret_value().strip():
                raise ValueError("must not be empty")
            return value

    def __init__(
        self,
        account: str,
        settings: ConnectorSettings,
        state: ConnectorState | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        media_poll_attempts: int = 10,
        media_poll_interval: float = 2.0,
    ) -> None:
        super().__init__(account, settings, state)
        self.sleep = sleep
        self.media_poll_attempts = media_poll_attempts
        self.media_poll_interval = media_poll_interval
        self.instance: InstanceConfig | None = None
        #: The token's own account id, learnt from the first ``verify_credentials``.
        self._account_id: str | None = None
        #: What the server reported in an earlier run (from the store), until it is asked again.
        self.remembered: InstanceConfig | None = None

    def _make_client(self) -> HttpClient:
        token = self.settings.access_token.get_secret_value()
        return HttpClient(
            self.name,
            self.account,
            base_url=self.settings.instance,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            secrets=[token],
            classify=self.classify,
        )

    # -- limits ---------------------------------------------------------------

    def _prepare(self) -> None:
        """Read the server's limits once (``GET /api/v2/instance``).

        Raises:
            AuthError, RateLimited, Rejected, Transient: the call failed.
        """
        if self.instance is not None:
            return
        response = self.http.request("GET", "/api/v2/instance", kind=Kind.READ)
        try:
            self.instance = InstanceConfig.from_instance(self.http.json(response, Kind.READ))
        except (ValueError, TypeError, KeyError) as exc:
            message = f"the instance description could not be read ({exc})"
            raise self.http.unreadable(message, Kind.READ) from None

    @property
    def _known(self) -> InstanceConfig | None:
        return self.instance or self.remembered

    @property
    def effective_limits(self) -> Limits:
        """The instance's limits once known (now or in an earlier run), else configured ones."""
        if self._known is not None:
            return self._known.limits()
        if self.settings.max_characters:
            return replace(self.limits, max_length=self.settings.max_characters)
        return self.limits

    def reported_limits(self) -> dict[str, Any] | None:
        """What ``/api/v2/instance`` said in this process, to be kept for later runs."""
        return self.instance.to_dict() if self.instance is not None else None

    def use_reported_limits(self, data: Mapping[str, Any]) -> None:
        """Count with what the server reported earlier until it is asked again."""
        try:
            self.remembered = InstanceConfig.from_dict(data)
        except (TypeError, ValueError):
            self.log.warning("ignoring unreadable stored instance limits")

    @property
    def url_width(self) -> int:
        """Characters every URL counts for."""
        return self._known.url_width if self._known else DEFAULT_URL_WIDTH

    def measure(self, text: str) -> int:
        """Grapheme count with URLs at ``characters_reserved_per_url`` and ``@u@host`` as ``@u``."""
        return grapheme_length(countable_text(text, self.url_width))

    def _check_text(self, post: RenderedPost, limits: Limits) -> list[str]:
        """Each status as the server counts it: content warning included."""
        what = "text with its content warning" if post.content_warning else "text"
        lengths = [status_length(part, post.content_warning, self.url_width) for part in post.parts]
        return [
            self._too_long(post, number, length, limits.max_length, "characters", what=what)
            for number, length in enumerate(lengths, start=1)
            if length > limits.max_length
        ]

    def _check_poll(self, post: RenderedPost, limits: Limits) -> list[str]:
        problems = super()._check_poll(post, limits)
        if post.poll is not None and post.media:
            problems.append("a Mastodon status cannot carry both a poll and media")
        return [*problems, *self._check_poll_duration(post)]

    def _check_options(self, post: RenderedPost) -> list[str]:
        visibility = post.options.get("visibility")
        if visibility is not None and visibility not in VISIBILITIES:
            allowed = ", ".join(sorted(VISIBILITIES))
            return [f"visibility {visibility!r} is not one of {allowed}"]
        return []

    def _check_poll_duration(self, post: RenderedPost) -> list[str]:
        if post.poll is None:
            return []
        config = self._known or InstanceConfig()
        seconds = int(post.poll.duration.total_seconds())
        if not config.poll_min_expiration <= seconds <= config.poll_max_expiration:
            return [
                f"poll lasts {seconds} s (between {config.poll_min_expiration} and "
                f"{config.poll_max_expiration} s on this server)"
            ]
        return []

    def _check_media_item(self, item: MediaItem, limits: Limits) -> list[str]:
        if item.mime_type.startswith(("video/", "audio/")):
            video_limit = (self._known or InstanceConfig()).video_size_limit
            limits = replace(limits, max_media_bytes=video_limit)
        return super()._check_media_item(item, limits)

    # -- publishing -----------------------------------------------------------

    def _publish_part(self, post: RenderedPost, part: ThreadPart) -> Published:
        """``POST /api/v1/statuses`` for one status of the thread, keyed.

        Raises:
            AuthError, RateLimited, Rejected, Transient, Unknown.
        """
        index, text, reply_to, idempotency_key = (
            part.index,
            part.text,
            part.reply_to,
            part.idempotency_key,
        )
        fields = self._status_fields(post, text, reply_to)
        if index == 0:
            fields += [("media_ids[]", media_id) for media_id in self._upload_all(post.media)]
            fields += self._poll_fields(post)
        response = self.http.request(
            "POST",
            "/api/v1/statuses",
            kind=Kind.KEYED_WRITE,
            data=fields,
            headers={"Idempotency-Key": idempotency_key},
        )
        published = self._to_published(self.http.json(response, Kind.KEYED_WRITE))
        if published is None:
            message = "the server's answer has no status id or date"
            raise self.http.unreadable(message, Kind.KEYED_WRITE, response.status_code)
        return published

    def _status_fields(
        self, post: RenderedPost, text: str, reply_to: Published | None
    ) -> list[tuple[str, str]]:
        fields = [("status", text)]
        if post.content_warning:
            # Every status of a thread stays behind the warning, as the web client does.
            fields.append(("spoiler_text", post.content_warning))
        visibility = post.options.get("visibility") or self.settings.visibility
        if visibility:
            fields.append(("visibility", str(visibility)))
        language = post.language or self.settings.language
        if language:
            fields.append(("language", language))
        if reply_to is not None:
            fields.append(("in_reply_to_id", reply_to.remote_id))
        return fields

    @staticmethod
    def _poll_fields(post: RenderedPost) -> list[tuple[str, str]]:
        if post.poll is None:
            return []
        fields = [("poll[options][]", option) for option in post.poll.options]
        fields.append(("poll[expires_in]", str(int(post.poll.duration.total_seconds()))))
        fields.append(("poll[multiple]", "true" if post.poll.multiple else "false"))
        return fields

    def _to_published(self, body: Any) -> Published | None:
        """A :class:`Published` from a Status entity, or None when it is not one."""
        try:
            remote_id = body["id"]
            created_at = _parse_time(body["created_at"])
        except (KeyError, TypeError, ValueError):
            return None
        if not isinstance(remote_id, str | int) or isinstance(remote_id, bool) or not remote_id:
            return None
        url = body.get("url") or body.get("uri")
        return Published(
            remote_id=str(remote_id),
            url=str(url) if url else None,
            published_at=created_at,
            extra={"uri": body.get("uri"), "instance": self.settings.instance},
        )

    # -- media ----------------------------------------------------------------

    def _upload_all(self, media: Sequence[MediaItem]) -> list[str]:
        return [self._upload(item) for item in media]

    def _upload(self, item: MediaItem) -> str:
        """``POST /api/v2/media`` with the alt text; waits for processing when 202."""
        try:
            content = item.path.read_bytes()
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise self.error(Rejected, f"{item.path.name}: cannot be read ({reason})") from None
        # An upload that may have arrived only leaves an unattached file
        # behind, never a status, so sending it again is safe.
        response = self.http.request(
            "POST",
            "/api/v2/media",
            kind=Kind.HARMLESS_WRITE,
            files={"file": (item.path.name, content, item.mime_type)},
            data={"description": item.alt} if item.alt else {},
        )
        body = self.http.json_object(response, Kind.HARMLESS_WRITE)
        media_id = body.get("id")
        if not isinstance(media_id, str | int) or isinstance(media_id, bool):
            message = f"{item.path.name}: the upload answer has no media id"
            raise self.http.unreadable(message, Kind.HARMLESS_WRITE)
        if response.status_code == 202 or not body.get("url"):
            self._wait_for_media(str(media_id), item)
        return str(media_id)

    def _wait_for_media(self, media_id: str, item: MediaItem) -> None:
        """Poll ``GET /api/v1/media/:id`` until it has a ``url`` (206 = still processing)."""
        for _attempt in range(self.media_poll_attempts):
            self.sleep(self.media_poll_interval)
            response = self.http.request(
                "GET", f"/api/v1/media/{quote(media_id)}", kind=Kind.READ, ok=(206,)
            )
            if response.status_code == 206:
                continue
            body = self.http.json(response, Kind.READ)
            if isinstance(body, dict) and body.get("url"):
                return
        raise self.error(Transient, f"{item.path.name}: the server is still processing the upload")

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

    def _metrics(self, body: Any) -> Metrics:
        counts = ("favourites_count", "reblogs_count", "replies_count", "quotes_count")
        if not isinstance(body, dict):
            raise self._unreadable("status")
        raw = {key: body[key] for key in counts if isinstance(body.get(key), int)}
        if "favourites_count" not in raw:
            raise self._unreadable("status")
        return Metrics(
            likes=raw.get("favourites_count"),
            reposts=raw.get("reblogs_count"),
            replies=raw.get("replies_count"),
            quotes=raw.get("quotes_count"),
            raw=raw,
        )

    def _unreadable(self, what: str) -> ConnectorError:
        return self.http.unreadable(f"the server's {what} answer could not be read", Kind.READ)

    def _own_account(self) -> dict[str, Any]:
        with self._needs_scope("read:accounts"):
            response = self.http.request(
                "GET", "/api/v1/accounts/verify_credentials", kind=Kind.READ
            )
        body = self.http.json(response, Kind.READ)
        if not isinstance(body, dict) or not body.get("id"):
            raise self._unreadable("account")
        self._account_id = str(body["id"])
        return body

    def _own_id(self) -> str:
        """The token's account id, asked for once per connector."""
        return self._account_id or str(self._own_account()["id"])

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
        body = self._own_account()
        counts = {
            key: body[key]
            for key in ("followers_count", "following_count", "statuses_count")
            if isinstance(body.get(key), int)
        }
        return AccountMetrics(
            followers=counts.get("followers_count"),
            following=counts.get("following_count"),
            posts=counts.get("statuses_count"),
            raw=counts,
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
        account_id = str(self._own_account()["id"])
        response = self.http.request(
            "GET",
            f"/api/v1/accounts/{quote(account_id, safe='')}/statuses",
            kind=Kind.READ,
            params={"limit": "40"},
        )
        statuses = self.http.json(response, Kind.READ)
        if not isinstance(statuses, list):
            raise self._unreadable("statuses")
        wanted = normalised_text(text)
        for status in statuses:
            if not isinstance(status, dict) or status.get("reblog"):
                continue
            shown = normalised_text(html_to_text(str(status.get("content") or "")))
            if shown == wanted:
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
            body = self.http.json(response, Kind.READ)
            if not isinstance(body, list):
                raise self._unreadable("notifications")
            for notification in body:
                newest = _newer(newest, notification)
                item = _inbox_item(notification, own_id)
                if item is not None:
                    items.append(item)
            params = self._next_page(response, query) if body else None
            if params is None:
                break
        return InboxPage(tuple(items), newest)

    def _next_page(
        self, response: Any, query: list[tuple[str, str]]
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
            body = self.http.json(response, Kind.READ)
            if not isinstance(body, list):
                raise self._unreadable("followers")
            found += [
                FollowerRef(str(a["id"]), "@" + str(a.get("acct") or ""))
                for a in body
                if isinstance(a, dict) and a.get("id")
            ]
            params = self._next_page(response, query) if body else None
        return found[:limit]


def _inbox_item(notification: Any, own_id: str | None) -> InboxItem | None:
    """An :class:`InboxItem` for a member's mention; None for anything else.

    Favourites, boosts and follows are not member-written content, whatever the
    server sent, and a status of the account itself is not a member's.
    """
    if not isinstance(notification, dict) or notification.get("type") != "mention":
        return None
    status = notification.get("status")
    account = status.get("account") if isinstance(status, dict) else None
    if not isinstance(status, dict) or not isinstance(account, dict) or not status.get("id"):
        return None
    if str(account.get("id")) == own_id:
        return None
    try:
        created = _parse_time(status.get("created_at"))
    except ValueError:
        return None
    parent = status.get("in_reply_to_id")
    return InboxItem(
        remote_id=str(status["id"]),
        kind="reply" if parent else "mention",
        author="@" + str(account.get("acct") or account.get("username") or ""),
        author_id=str(account["id"]) if account.get("id") else None,
        text=html_to_text(str(status.get("content") or "")).strip(),
        url=str(status.get("url") or status.get("uri") or "") or None,
        created_at=created,
        in_reply_to=str(parent) if parent else None,
        raw={"notification_id": notification.get("id"), "visibility": status.get("visibility")},
    )


def _newer(current: str | None, notification: Any) -> str | None:
    """The larger of two notification ids (numeric strings compare by length, then text)."""
    value = notification.get("id") if isinstance(notification, dict) else None
    if value is None:
        return current
    candidate = str(value)
    if current is None or (len(candidate), candidate) > (len(current), current):
        return candidate
    return current
