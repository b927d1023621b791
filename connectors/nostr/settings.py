"""The ``accounts:`` entry of a Nostr key and its relays."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from connectors.base import ConnectorSettings
from connectors.nostr.keys import InvalidKey, Keys
from crosspost.rendering.humanize import counted


class NostrSettings(ConnectorSettings):
    """The ``accounts:`` entry of a Nostr identity.

    Attributes:
        secret_key: the account's secret key, ``nsec1…`` or 64 hex characters,
            e.g. ``${NOSTR_NSEC}``.
        relays: ``wss://`` (or ``ws://``) URLs the posts are sent to and read from.
        min_relays: how many relays must accept a post for it to count as published.
        long_form: publish content that has a title as a NIP-23 article (kind 30023)
            instead of a note; notes are then never split into threads.
        media_url: where the media files are served publicly (``<media_url>/<file
            name>``); crosspost does not upload them, Nostr has no standard upload.
        max_length: longest note, in characters (relays set their own limits).
        article_max_length: longest article, in characters.
        timeout: seconds to connect to a relay, and to wait for each of its answers.
    """

    secret_key: SecretStr
    relays: tuple[str, ...] = Field(min_length=1, max_length=20)
    min_relays: int = Field(default=1, ge=1)
    long_form: bool = False
    media_url: str | None = None
    max_length: int = Field(default=4000, ge=1, le=1_000_000)
    article_max_length: int = Field(default=100_000, ge=1, le=1_000_000)
    timeout: float = Field(default=10.0, gt=0, le=120)

    @field_validator("secret_key")
    @classmethod
    def _key_is_usable(cls, value: SecretStr) -> SecretStr:
        try:
            Keys(value.get_secret_value())
        except InvalidKey as error:
            raise ValueError(str(error)) from None
        return value

    @field_validator("relays")
    @classmethod
    def _relay_urls(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for url in value:
            parts = urlsplit(url)
            if parts.scheme not in ("wss", "ws") or not parts.hostname:
                raise ValueError(f"{url!r} is not a relay URL; expected wss://host")
        if len(set(value)) != len(value):
            raise ValueError("a relay is listed twice")
        return value

    @field_validator("media_url")
    @classmethod
    def _media_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("expected an http(s):// URL where the media files are served")
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _enough_relays(self) -> NostrSettings:
        if self.min_relays > len(self.relays):
            listed = len(self.relays)
            are = "is" if listed == 1 else "are"
            raise ValueError(
                f"min_relays is {self.min_relays} but only {counted(listed, 'relay')} {are} listed"
            )
        return self

    def keys(self) -> Keys:
        """The account's keys."""
        return Keys(self.secret_key.get_secret_value())
