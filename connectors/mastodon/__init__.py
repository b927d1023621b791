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

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any, ClassVar
from urllib.parse import quote

from connectors.base import (
    Capability,
    ConnectorSettings,
    ConnectorState,
    Limits,
    MediaItem,
    Published,
    Rejected,
    RenderedPost,
    ThreadPart,
    Transient,
)
from connectors.http import HttpClient, Kind
from connectors.mastodon.counting import (
    DEFAULT_URL_WIDTH,
    MENTION_RE,
    countable_text,
    html_to_text,
    normalised_text,
    status_length,
)
from connectors.mastodon.instance import InstanceConfig
from connectors.mastodon.reading import MastodonReading
from connectors.mastodon.settings import VISIBILITIES, MastodonSettings
from crosspost.markdown import TextFormat
from crosspost.text import grapheme_length

__all__ = [
    "DEFAULT_URL_WIDTH",
    "MENTION_RE",
    "VISIBILITIES",
    "InstanceConfig",
    "MastodonConnector",
    "MastodonSettings",
    "countable_text",
    "html_to_text",
    "normalised_text",
    "status_length",
]


class MastodonConnector(MastodonReading):
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
    #: Plain text: Markdown links spelt out as ``text (url)``.
    text_format: ClassVar[TextFormat] = TextFormat.PLAIN
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

    Settings = MastodonSettings

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
        return self._bearer_client(
            self.settings.access_token.get_secret_value(),
            base_url=self.settings.instance,
            headers={"Accept": "application/json"},
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
