"""What a Mastodon server says it accepts (``GET /api/v2/instance``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, TypeVar

from pydantic import BeforeValidator, Field, ValidationError

from connectors.base import Limits
from connectors.mastodon.counting import DEFAULT_URL_WIDTH
from connectors.payload import Maybe, Payload, what_is_wrong

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

#: A limit the server reports: a whole number, never negative.
Count = Annotated[int, Field(ge=0)]

_T = TypeVar("_T")


def _object_or_none(value: object) -> object:
    return value if isinstance(value, dict) else None


#: A section of the configuration; one that is not an object leaves its defaults, but a
#: value of the wrong type inside one makes the whole description unreadable.
Section = Annotated[_T | None, BeforeValidator(_object_or_none), Field(default=None)]


class _Statuses(Payload):
    max_characters: Count | None = None
    characters_reserved_per_url: Count | None = None
    max_media_attachments: Count | None = None


class _Media(Payload):
    supported_mime_types: Maybe[list[str]]
    image_size_limit: Count | None = None
    video_size_limit: Count | None = None
    description_limit: Count | None = None


class _Polls(Payload):
    max_options: Count | None = None
    max_characters_per_option: Count | None = None
    min_expiration: Count | None = None
    max_expiration: Count | None = None


class _Configuration(Payload):
    statuses: Section[_Statuses]
    media_attachments: Section[_Media]
    polls: Section[_Polls]


class _Instance(Payload):
    configuration: _Configuration


class InstanceConfig(Payload):
    """What ``GET /api/v2/instance`` says this server accepts.

    Kept in the store as :meth:`to_dict` gives it and read back with :meth:`from_dict`.
    """

    max_characters: Count = 500
    url_width: Count = DEFAULT_URL_WIDTH
    max_media: Count = 4
    image_size_limit: Count = 16 * 1024 * 1024
    video_size_limit: Count = 99 * 1024 * 1024
    # Stored as a JSON list of strings.
    media_types: frozenset[str] = Field(default=_DEFAULT_TYPES, strict=False)
    description_limit: Count = 1500
    poll_max_options: Count = 4
    poll_option_length: Count = 50
    poll_min_expiration: Count = 300
    poll_max_expiration: Count = 2629746

    @classmethod
    def from_instance(cls, body: object) -> InstanceConfig:
        """Read the ``configuration`` of an Instance entity; missing values keep defaults.

        Raises:
            ValueError: the body is not an Instance or a value has the wrong type.
        """
        try:
            config = _Instance.model_validate(body).configuration
        except ValidationError as exc:
            raise ValueError(f"the instance answer {what_is_wrong(exc)}") from None
        statuses = config.statuses or _Statuses()
        media = config.media_attachments or _Media.empty()
        polls = config.polls or _Polls()
        reported = {
            "max_characters": statuses.max_characters,
            "url_width": statuses.characters_reserved_per_url,
            "max_media": statuses.max_media_attachments,
            "image_size_limit": media.image_size_limit,
            "video_size_limit": media.video_size_limit,
            "media_types": frozenset(media.supported_mime_types or ()) or None,
            "description_limit": media.description_limit,
            "poll_max_options": polls.max_options,
            "poll_option_length": polls.max_characters_per_option,
            "poll_min_expiration": polls.min_expiration,
            "poll_max_expiration": polls.max_expiration,
        }
        return cls.model_validate({k: v for k, v in reported.items() if v is not None})

    def to_dict(self) -> dict[str, int | list[str]]:
        """These values as JSON-ready data (for the store)."""
        data: dict[str, int | list[str]] = self.model_dump(exclude={"media_types"})
        data["media_types"] = sorted(self.media_types)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> InstanceConfig:
        """The values :meth:`to_dict` gave; unknown keys are ignored.

        Raises:
            ValueError: a value has the wrong type.
        """
        return cls.model_validate(data)

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
