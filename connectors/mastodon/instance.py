"""What a Mastodon server says it accepts (``GET /api/v2/instance``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from connectors.base import (
    Limits,
)
from connectors.mastodon.counting import DEFAULT_URL_WIDTH

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
