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

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import ClassVar
from urllib.parse import quote

from connectors.attachments import MediaItem
from connectors.base import (
    STANDARD_CAPABILITIES,
    Capability,
    CommentsAsReplies,
    ConnectorSettings,
    Limits,
    RenderedPost,
)
from connectors.errors import Rejected, Transient
from connectors.http import HttpClient, Kind
from connectors.mastodon.counting import (
    DEFAULT_URL_WIDTH,
    MASTODON_URLS,
    MENTION_RE,
    countable_text,
    html_to_text,
    normalised_text,
    status_length,
)
from connectors.mastodon.doctor import MastodonDoctor
from connectors.mastodon.instance import InstanceConfig
from connectors.mastodon.payloads import Media, Status
from connectors.mastodon.replies import MastodonReplies
from connectors.mastodon.settings import VISIBILITIES, MastodonSettings
from connectors.mastodon.streaming import MastodonStreaming
from connectors.payload import read_model
from connectors.results import Published, ThreadPart
from crosspost.rendering.markdown_forms import TextFormat
from crosspost.rendering.text import grapheme_length
from crosspost.rendering.urls import UrlCounting

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


class MastodonConnector(
    CommentsAsReplies[MastodonSettings], MastodonReplies, MastodonDoctor, MastodonStreaming
):
    """Publishes statuses to one account on a Mastodon server.

    Built as a :class:`~connectors.http.WaitingConnector` (``sleep``, ``poll_attempts``,
    ``poll_interval``: how it waits for an upload to be processed); the state is unused
    (Mastodon tokens do not rotate).
    """

    name: ClassVar[str] = "mastodon"
    #: Plain text: Markdown links spelt out as ``text (url)``.
    text_format: ClassVar[TextFormat] = TextFormat.PLAIN
    #: Mastodon keeps keys for an hour (PostStatusService); a margin for clock drift.
    idempotency_window: ClassVar[timedelta | None] = timedelta(minutes=50)
    limits: ClassVar[Limits] = InstanceConfig().limits()
    capabilities: frozenset[Capability] = STANDARD_CAPABILITIES | {
        Capability.POLLS,
        Capability.IDEMPOTENCY_KEY,
        Capability.INBOX,
        Capability.FOLLOWER_LIST,
        Capability.REPLY,
        Capability.FIRST_COMMENT,
    }
    docs_url: ClassVar[str] = "https://docs.joinmastodon.org/methods/statuses/"

    Settings = MastodonSettings

    @classmethod
    def capabilities_for(cls, settings: ConnectorSettings) -> frozenset[Capability]:
        """The class's abilities, and the notification stream when ``inbox_stream`` is on."""
        if isinstance(settings, MastodonSettings) and settings.inbox_stream:
            return cls.capabilities | {Capability.INBOX_STREAM}
        return cls.capabilities

    def _open(self) -> None:
        super()._open()
        self.instance: InstanceConfig | None = None
        #: The token's own account id, learnt from the first ``verify_credentials``.
        self._account_id: str | None = None
        #: What the server reported in an earlier run (from the store), until it is asked again.
        self.remembered: InstanceConfig | None = None
        #: ``instance`` and what :meth:`reported_limits` made of it.
        self._reported: tuple[InstanceConfig, dict[str, int | list[str]]] | None = None
        #: The limits last made, with the instance description they came from: ``check``
        #: asks for them several times per post, and they change only with the description.
        self._limits: tuple[InstanceConfig | None, Limits] | None = None

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
        except ValueError as exc:
            message = f"the instance description could not be read ({exc})"
            raise self.http.unreadable(message, Kind.READ) from None

    @property
    def _known(self) -> InstanceConfig | None:
        return self.instance or self.remembered

    @property
    def effective_limits(self) -> Limits:
        """The instance's limits once known (now or in an earlier run), else configured ones."""
        known = self._known
        if self._limits is None or self._limits[0] is not known:
            self._limits = (known, self._limits_from(known))
        return self._limits[1]

    def _limits_from(self, known: InstanceConfig | None) -> Limits:
        if known is not None:
            return known.limits()
        if self.settings.max_characters:
            return replace(self.limits, max_length=self.settings.max_characters)
        return self.limits

    def reported_limits(self) -> dict[str, int | list[str]] | None:
        """What ``/api/v2/instance`` said in this process, to be kept for later runs.

        Asked after every post: built once per answer, and the same object each time,
        so the publisher sees at a glance that it is stored already.
        """
        instance = self.instance
        if instance is None:
            return None
        if self._reported is None or self._reported[0] is not instance:
            self._reported = (instance, instance.to_dict())
        return self._reported[1]

    def use_reported_limits(self, data: Mapping[str, object]) -> None:
        """Count with what the server reported earlier until it is asked again."""
        try:
            self.remembered = InstanceConfig.from_dict(data)
        except ValueError:
            self.log.warning("ignoring unreadable stored instance limits")

    @property
    def url_width(self) -> int:
        """Characters every URL counts for."""
        return self._known.url_width if self._known else DEFAULT_URL_WIDTH

    def measure(self, text: str) -> int:
        """Grapheme count with URLs at ``characters_reserved_per_url`` and ``@u@host`` as ``@u``."""
        return grapheme_length(countable_text(text, self.url_width))

    @property
    def url_counting(self) -> UrlCounting:
        """Every URL Mastodon's rules find counts ``url_width``; any other by its characters."""
        return UrlCounting(MASTODON_URLS)

    @property
    def counting_key(self) -> Hashable:
        """Instances that reserve the same width per URL count alike."""
        return ("mastodon", self.url_width)

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
        status = read_model(Status, self.http.json(response, Kind.KEYED_WRITE))
        published = self._to_published(status)
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
        media = read_model(Media, self.http.json_object(response, Kind.HARMLESS_WRITE))
        if media is None or media.id is None:
            message = f"{item.path.name}: the upload answer has no media id"
            raise self.http.unreadable(message, Kind.HARMLESS_WRITE)
        if response.status_code == 202 or not media.url:
            self._wait_for_media(media.id, item)
        return media.id

    def _wait_for_media(self, media_id: str, item: MediaItem) -> None:
        """Poll ``GET /api/v1/media/:id`` until it has a ``url`` (206 = still processing)."""
        for _attempt in range(self.poll_attempts):
            self.sleep(self.poll_interval)
            response = self.http.request(
                "GET", f"/api/v1/media/{quote(media_id)}", kind=Kind.READ, ok=(206,)
            )
            if response.status_code == 206:
                continue
            media = read_model(Media, self.http.json(response, Kind.READ))
            if media is not None and media.url:
                return
        raise self.error(Transient, f"{item.path.name}: the server is still processing the upload")
