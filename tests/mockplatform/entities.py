"""Mastodon entities as the mock server renders them.

Shapes follow the entity pages and real Mastodon 4.6.4 recordings (the values
here are the mock's own):

- https://docs.joinmastodon.org/entities/Status/
- https://docs.joinmastodon.org/entities/Account/
- https://docs.joinmastodon.org/entities/MediaAttachment/
- https://docs.joinmastodon.org/entities/Instance/
- https://docs.joinmastodon.org/api/rate-limits/
"""

from __future__ import annotations

import html
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import regex  # type: ignore[import-untyped]

__all__ = [
    "Account",
    "IdMaker",
    "Media",
    "Status",
    "account_json",
    "credential_source",
    "instance_json",
    "iso",
    "media_json",
    "rate_limit_headers",
    "status_json",
    "status_length",
]

#: Mastodon counts a URL as this many characters, whatever its length.
URL_WEIGHT = 23
_URL = regex.compile(r"https?://[^\s<>\"]+")
_REMOTE_MENTION = regex.compile(r"(?<![\w@])@(\w+)@[\w.-]*\w")
_GRAPHEME = regex.compile(r"\X")

SUPPORTED_MIME_TYPES = (
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "video/mp4",
    "video/webm",
    "audio/mpeg",
    "audio/ogg",
)


def iso(moment: datetime) -> str:
    """``2026-01-02T03:04:05.678Z``, the way Mastodon writes ``created_at``."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


class IdMaker:
    """Snowflake-like string ids: milliseconds << 16, strictly increasing across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def next(self) -> str:
        """A new id, larger than every id given out before."""
        with self._lock:
            candidate = int(time.time() * 1000) << 16
            self._last = max(candidate, self._last + 1)
            return str(self._last)


@dataclass
class Account:
    """One local account; every valid token belongs to exactly one."""

    id: str
    username: str
    created_at: datetime
    followers_count: int = 0
    following_count: int = 0


@dataclass
class Media:
    """An uploaded attachment; ``status_id`` is set once a status uses it."""

    id: str
    account_id: str
    kind: str
    content_type: str
    size: int
    description: str | None
    focus: tuple[float, float] | None
    status_id: str | None = None


@dataclass
class Status:
    """A stored status with the source text it was posted with."""

    id: str
    account_id: str
    text: str
    spoiler_text: str
    visibility: str
    sensitive: bool
    language: str
    created_at: datetime
    in_reply_to_id: str | None = None
    in_reply_to_account_id: str | None = None
    media_ids: list[str] = field(default_factory=list)
    idempotency_key: str | None = None
    #: Ids of the local accounts the text names.
    mentions: list[str] = field(default_factory=list)
    favourites_count: int = 0
    reblogs_count: int = 0
    replies_count: int = 0
    quotes_count: int = 0


def status_length(text: str, spoiler_text: str = "") -> int:
    """Characters as Mastodon's StatusLengthValidator counts them.

    Graphemes of the content warning plus the text, each URL counting as 23 and
    ``@user@domain`` as ``@user``.
    """
    countable = _URL.sub("x" * URL_WEIGHT, text)
    countable = _REMOTE_MENTION.sub(r"@\1", countable)
    return len(_GRAPHEME.findall(spoiler_text)) + len(_GRAPHEME.findall(countable))


def _content_html(text: str) -> str:
    paragraphs = [p for p in text.split("\n\n") if p.strip()] or [""]
    return "".join(
        "<p>" + html.escape(p, quote=False).replace("\n", "<br />") + "</p>" for p in paragraphs
    )


def account_json(account: Account, base_url: str, statuses_count: int) -> dict[str, Any]:
    """The Account entity."""
    return {
        "id": account.id,
        "username": account.username,
        "acct": account.username,
        "display_name": account.username.replace("_", " ").title(),
        "locked": False,
        "bot": False,
        "discoverable": True,
        "indexable": False,
        "group": False,
        "created_at": iso(account.created_at),
        "note": "<p>Account of the crosspost mock server</p>",
        "url": f"{base_url}/@{account.username}",
        "uri": f"{base_url}/users/{account.username}",
        "avatar": f"{base_url}/avatars/original/missing.png",
        "avatar_static": f"{base_url}/avatars/original/missing.png",
        "header": f"{base_url}/headers/original/missing.png",
        "header_static": f"{base_url}/headers/original/missing.png",
        "followers_count": account.followers_count,
        "following_count": account.following_count,
        "statuses_count": statuses_count,
        "last_status_at": None,
        "emojis": [],
        "fields": [],
    }


def credential_source() -> dict[str, Any]:
    """The ``source`` block that only ``verify_credentials`` returns."""
    return {
        "privacy": "public",
        "sensitive": False,
        "language": None,
        "note": "Account of the crosspost mock server",
        "fields": [],
        "follow_requests_count": 0,
    }


def media_json(media: Media, base_url: str) -> dict[str, Any]:
    """The MediaAttachment entity (always fully processed)."""
    extension = media.content_type.rsplit("/", 1)[-1]
    files = f"{base_url}/system/media_attachments/files/{media.id}"
    meta: dict[str, Any] = {}
    if media.focus is not None:
        meta["focus"] = {"x": media.focus[0], "y": media.focus[1]}
    return {
        "id": media.id,
        "type": media.kind,
        "url": f"{files}/original/{media.id[-8:]}.{extension}",
        "preview_url": f"{files}/small/{media.id[-8:]}.jpg",
        "remote_url": None,
        "preview_remote_url": None,
        "text_url": None,
        "meta": meta,
        "description": media.description,
        "blurhash": None,
    }


def status_json(
    status: Status,
    account: dict[str, Any],
    media: list[dict[str, Any]],
    base_url: str,
    *,
    source: bool = False,
) -> dict[str, Any]:
    """The Status entity; ``source=True`` gives ``text`` instead of ``content`` (DELETE)."""
    body: dict[str, Any] = {
        "id": status.id,
        "created_at": iso(status.created_at),
        "in_reply_to_id": status.in_reply_to_id,
        "in_reply_to_account_id": status.in_reply_to_account_id,
        "sensitive": status.sensitive,
        "spoiler_text": status.spoiler_text,
        "visibility": status.visibility,
        "language": status.language,
        "uri": f"{base_url}/users/{account['username']}/statuses/{status.id}",
        "url": f"{base_url}/@{account['username']}/{status.id}",
        "replies_count": status.replies_count,
        "reblogs_count": status.reblogs_count,
        "favourites_count": status.favourites_count,
        "quotes_count": status.quotes_count,
        "edited_at": None,
        "favourited": False,
        "reblogged": False,
        "muted": False,
        "bookmarked": False,
        "pinned": False,
    }
    if source:
        body["text"] = status.text
    else:
        body["content"] = _content_html(status.text)
    body.update(
        {
            "filtered": [],
            "reblog": None,
            "application": {"name": "crosspost", "website": None},
            "account": account,
            "media_attachments": media,
            "mentions": [],
            "tags": [],
            "emojis": [],
            "quote": None,
            "card": None,
            "poll": None,
        }
    )
    return body


def instance_json(base_url: str, max_characters: int) -> dict[str, Any]:
    """The v2 Instance entity, with the limits a connector reads."""
    domain = base_url.split("://", 1)[-1]
    return {
        "domain": domain,
        "title": "crosspost mock",
        "version": "4.6.4",
        "source_url": "https://github.com/mastodon/mastodon",
        "description": "Local stand-in for a Mastodon server, for crosspost's tests.",
        "usage": {"users": {"active_month": 1}},
        "thumbnail": {"url": f"{base_url}/packs/media/images/preview.png"},
        "languages": ["en"],
        "configuration": {
            "urls": {"streaming": "ws://" + domain, "status": None},
            "statuses": {
                "max_characters": max_characters,
                "max_media_attachments": 4,
                "characters_reserved_per_url": URL_WEIGHT,
            },
            "media_attachments": {
                "description_limit": 1500,
                "image_matrix_limit": 16777216,
                "image_size_limit": 16777216,
                "supported_mime_types": list(SUPPORTED_MIME_TYPES),
                "video_frame_rate_limit": 120,
                "video_matrix_limit": 8294400,
                "video_size_limit": 103809024,
            },
            "polls": {
                "max_options": 4,
                "max_characters_per_option": 50,
                "min_expiration": 300,
                "max_expiration": 2629746,
            },
            "translation": {"enabled": False},
        },
        "registrations": {"enabled": False, "approval_required": False, "message": None},
        "api_versions": {"mastodon": 11},
        "contact": {"email": "", "account": None},
        "rules": [],
    }


def rate_limit_headers(limit: int, remaining: int, period: timedelta) -> dict[str, str]:
    """``X-RateLimit-*`` as Mastodon sends them: the reset is an ISO 8601 time."""
    now = datetime.now(UTC)
    seconds = int(period.total_seconds())
    reset = now + timedelta(seconds=seconds - int(now.timestamp()) % seconds)
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(max(remaining, 0)),
        "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }
