"""The ``accounts:`` entry of a Bluesky account."""

from __future__ import annotations

import re

from pydantic import SecretStr, field_validator

from connectors.base import (
    ConnectorSettings,
)
from connectors.bluesky.constants import _APP_PASSWORD_RE, _DID_RE, _HANDLE_RE


class BlueskySettings(ConnectorSettings):
    """The ``accounts:`` entry of a Bluesky account.

    Attributes:
        handle: the account's handle (``name.bsky.social``) or DID.
        app_password: an app password (``xxxx-xxxx-xxxx-xxxx``), never the account password.
        service: the PDS (or entryway) to log in to and write through.
        appview: optional public AppView for reads, e.g. ``https://public.api.bsky.app``;
            metrics then need no session.
    """

    handle: str
    app_password: SecretStr
    service: str = "https://bsky.social"
    appview: str | None = None

    @field_validator("handle")
    @classmethod
    def _valid_handle(cls, value: str) -> str:
        value = value.strip().removeprefix("@")
        if _DID_RE.match(value):
            return value
        if not _HANDLE_RE.match(value.lower()):
            raise ValueError("must be a handle like name.bsky.social or a DID like did:plc:…")
        return value.lower()

    @field_validator("app_password")
    @classmethod
    def _valid_app_password(cls, value: SecretStr) -> SecretStr:
        if not _APP_PASSWORD_RE.match(value.get_secret_value().strip()):
            raise ValueError(
                "must be an app password (xxxx-xxxx-xxxx-xxxx) from Bluesky's Settings → "
                "Privacy and security → App passwords, not the account password"
            )
        return SecretStr(value.get_secret_value().strip())

    @field_validator("service", "appview")
    @classmethod
    def _valid_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        local = re.match(r"^http://(localhost|127\.0\.0\.1)(:\d+)?$", value)
        if not (re.match(r"^https://[^/\s]+$", value) or local):
            raise ValueError("must be an https:// origin such as https://bsky.social")
        return value
