"""The ``accounts:`` entry of a Mastodon account."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import ConfigDict, Field, field_validator

from connectors.base import ConnectorSettings, NonBlankSecret

Visibility = Literal["public", "unlisted", "private", "direct"]
VISIBILITIES: frozenset[str] = frozenset({"public", "unlisted", "private", "direct"})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class MastodonSettings(ConnectorSettings):
    """The ``accounts:`` entry of a Mastodon account."""

    # Validation errors would otherwise echo the whole entry, token included.
    model_config = ConfigDict(hide_input_in_errors=True)

    #: Base URL of the server, ``https://`` only.
    instance: str
    #: User token with ``write:statuses write:media read:statuses read:accounts
    #: read:notifications`` (each read scope is needed by one collect step).
    access_token: NonBlankSecret
    #: Default visibility; the account's own default when unset.
    visibility: Visibility | None = None
    #: Default ISO 639-1 language of statuses; the server guesses when unset.
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$")
    #: Character limit used by the offline ``check`` (the instance's value wins online).
    max_characters: int | None = Field(default=None, gt=0)
    #: Listen to the server's notification stream, so that a mention is read at once
    #: (the daemon; polling goes on beside it, once an hour while the stream is up).
    inbox_stream: bool = False

    @field_validator("instance")
    @classmethod
    def _https_origin(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        # plain http only for a server on this machine (a test or a local instance)
        local = parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
        if not (parts.scheme == "https" or local) or not parts.hostname:
            raise ValueError("must be an https:// URL such as https://mastodon.social")
        if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
            raise ValueError("must be the server's address only, without a path")
        return f"{parts.scheme}://{parts.netloc}"
