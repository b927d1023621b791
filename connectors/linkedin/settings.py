"""The ``accounts:`` entry of a LinkedIn member or page."""

from __future__ import annotations

from pydantic import SecretStr, field_validator, model_validator

from connectors.base import (
    ConnectorSettings,
)
from connectors.linkedin.text import _AUTHOR_RE, _VERSION_RE, DEFAULT_VERSION, Visibility


class LinkedInSettings(ConnectorSettings):
    """One LinkedIn author (``accounts:`` entry).

    Attributes:
        access_token: 3-legged OAuth token with ``w_member_social`` or
            ``w_organization_social`` (lasts 60 days).
        author: ``urn:li:person:<id>`` or ``urn:li:organization:<number>``.
        version: ``LinkedIn-Version`` header, ``YYYYMM``.
        visibility: ``PUBLIC``, ``CONNECTIONS`` (members only) or ``LOGGED_IN``.
    """

    access_token: SecretStr
    author: str
    version: str = DEFAULT_VERSION
    visibility: Visibility = "PUBLIC"

    @field_validator("author")
    @classmethod
    def _author_is_urn(cls, value: str) -> str:
        if not _AUTHOR_RE.fullmatch(value):
            raise ValueError("author must be urn:li:person:<id> or urn:li:organization:<number>")
        return value

    @field_validator("version")
    @classmethod
    def _version_is_yyyymm(cls, value: str) -> str:
        if not _VERSION_RE.fullmatch(value):
            raise ValueError("version must be a LinkedIn-Version like 202605 (YYYYMM)")
        return value

    @field_validator("access_token")
    @classmethod
    def _token_not_empty(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("access_token is empty")
        return value

    @model_validator(mode="after")
    def _connections_only_for_members(self) -> LinkedInSettings:
        if self.visibility == "CONNECTIONS" and not self.author.startswith("urn:li:person:"):
            raise ValueError("visibility CONNECTIONS is only for urn:li:person authors")
        return self
