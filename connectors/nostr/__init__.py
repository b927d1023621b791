"""Nostr: signed events sent to the account's relays over WebSockets.

Written from NIP-01 (events, relay messages), NIP-10 (threads), NIP-19 (nsec/npub),
NIP-23 (long-form), NIP-42 (relay AUTH) and NIP-92 (media):
https://github.com/nostr-protocol/nips

An event's id is the hash of its content, tags and ``created_at``, and
``created_at`` is the publication's due time: every attempt of one publication is
the same event, and a relay that already has it answers ``duplicate:``. So
publishing is a keyed write, and a resend can never double a post.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import ClassVar

from connectors.base import (
    Capability,
    ConnectorSettings,
    Limits,
    Published,
    RenderedPost,
    ThreadPart,
)
from connectors.http import Kind
from connectors.nostr import posts
from connectors.nostr.counting import uri
from connectors.nostr.doctor import NostrDoctor
from connectors.nostr.events import ARTICLE, sign_event
from connectors.nostr.settings import NostrSettings
from crosspost.rendering.urls import UrlCounting

__all__ = ["NostrConnector"]

#: The most images a note links; clients show a handful.
MAX_MEDIA = 4
MEDIA_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


class NostrConnector(NostrDoctor):
    """Publishes notes (or articles) to Nostr relays and reads back what members did."""

    name: ClassVar[str] = "nostr"
    docs_url: ClassVar[str] = "https://github.com/nostr-protocol/nips/blob/master/01.md"
    limits: ClassVar[Limits] = Limits(max_length=4000, unit="characters")
    capabilities: frozenset[Capability] = frozenset(
        {
            Capability.THREADS,
            Capability.MEDIA,
            Capability.IDEMPOTENCY_KEY,
            Capability.RECONCILE,
            Capability.INBOX,
            Capability.FOLLOWER_LIST,
            Capability.DELETE,
        }
    )
    #: A resend is the same event; relays keep events, so it stays harmless for long.
    idempotency_window: ClassVar[timedelta | None] = timedelta(days=30)
    Settings: ClassVar[type[ConnectorSettings]] = NostrSettings

    @classmethod
    def capabilities_for(cls, settings: ConnectorSettings) -> frozenset[Capability]:
        """Articles are never split: a long-form account publishes no threads; no media
        without a public ``media_url``."""
        assert isinstance(settings, NostrSettings)
        taken = {Capability.THREADS} if settings.long_form else set()
        taken |= {Capability.MEDIA} if settings.media_url is None else set()
        return cls.capabilities - taken

    @property
    def effective_limits(self) -> Limits:
        """The account's note length, and media only when they have a public URL."""
        media = MAX_MEDIA if self.settings.media_url else 0
        return Limits(
            max_length=self.settings.max_length,
            unit="characters",
            max_media=media,
            media_types=MEDIA_TYPES,
        )

    def measure(self, text: str) -> int:
        """Code points: what relays that limit ``content`` count (nostr-relay, NIP-11)."""
        return len(text)

    @property
    def url_counting(self) -> UrlCounting:
        """Code points: a URL counts its characters, like any text."""
        return UrlCounting()

    # -- checks ---------------------------------------------------------------

    def _is_article(self, post: RenderedPost) -> bool:
        return self.settings.long_form and bool(post.title.strip())

    def _check_text(self, post: RenderedPost, limits: Limits) -> list[str]:
        if self._is_article(post):
            length, limit = (
                sum(self.measure(p) for p in post.parts),
                self.settings.article_max_length,
            )
            if length > limit:
                return [self._too_long(post, 1, length, limit, limits.unit, what="article")]
            return []
        return super()._check_text(post, limits)

    def _check_media(self, post: RenderedPost, limits: Limits) -> list[str]:
        if post.media and not self.settings.media_url:
            return [
                "nostr has no standard media upload: set media_url to where the files are "
                "served, or remove the media"
            ]
        return super()._check_media(post, limits)

    def _check_options(self, post: RenderedPost) -> list[str]:
        unknown = sorted(set(post.options) - {posts.SUMMARY_OPTION})
        return [f"unknown nostr option {key!r} (known: summary)" for key in unknown]

    # -- publishing -----------------------------------------------------------

    def _publish(self, post: RenderedPost, idempotency_key: str) -> Published:
        if self._is_article(post):
            part = ThreadPart(0, post.text, None, None, idempotency_key)
            return self._publish_part(post, part)
        return super()._publish(post, idempotency_key)

    def _publish_part(self, post: RenderedPost, part: ThreadPart) -> Published:
        if post.scheduled_at is None:
            self.log.warning(
                "no due time given: a resend of %s would be a new event", part.idempotency_key
            )
        created = posts.created_at(post, part, datetime.now(UTC))
        media_url = self.settings.media_url
        if self._is_article(post):
            identifier = post.content_id or part.idempotency_key
            draft = posts.article(post, identifier, created, media_url)
        else:
            draft = posts.note(post, part, self.keys.pubkey, self.settings.relays[0], media_url)
        event = sign_event(self.keys, created, draft.kind, draft.tags, draft.content)
        delivery = self._deliver(event, Kind.KEYED_WRITE)
        extra: dict[str, object] = {
            "kind": event["kind"],
            "pubkey": self.keys.pubkey,
            "created_at": created,
            "relays": delivery.report(),
        }
        if event["kind"] == ARTICLE:
            extra["d"] = draft.tags[0][1]
        return Published(
            remote_id=event["id"],
            url=uri(event["id"]),
            published_at=datetime.fromtimestamp(created, UTC),
            extra=extra,
        )
