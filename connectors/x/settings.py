"""The ``accounts:`` entry of an X account: OAuth 2.0 or OAuth 1.0a credentials."""

from __future__ import annotations

from pydantic import SecretStr, model_validator

from connectors.base import (
    ConnectorSettings,
)
from connectors.x.answers import _OAUTH1_FIELDS


class XSettings(ConnectorSettings):
    """One X account: OAuth 2.0 user context *or* OAuth 1.0a user context.

    OAuth 2.0 needs ``client_id`` and the first ``refresh_token`` (scopes
    ``tweet.read tweet.write users.read media.write offline.access``);
    ``client_secret`` only for a confidential client. OAuth 1.0a needs all
    four of ``api_key``, ``api_secret``, ``access_token``, ``access_token_secret``.
    """

    client_id: str | None = None
    client_secret: SecretStr | None = None
    refresh_token: SecretStr | None = None
    api_key: SecretStr | None = None
    api_secret: SecretStr | None = None
    access_token: SecretStr | None = None
    access_token_secret: SecretStr | None = None

    @model_validator(mode="after")
    def _one_auth_method(self) -> XSettings:
        oauth1 = [key is not None for key in self.oauth1_keys()]
        oauth2 = self.client_id is not None or self.refresh_token is not None
        if oauth2 and any(oauth1):
            raise ValueError("give either OAuth 2.0 or OAuth 1.0a credentials, not both")
        if oauth2 and not (self.client_id and self.refresh_token):
            raise ValueError("OAuth 2.0 needs both client_id and refresh_token")
        if self.client_secret is not None and not oauth2:
            raise ValueError("client_secret belongs to OAuth 2.0 (with client_id)")
        if any(oauth1) and not all(oauth1):
            raise ValueError("OAuth 1.0a needs " + ", ".join(_OAUTH1_FIELDS))
        if not oauth2 and not any(oauth1):
            raise ValueError(
                "no credentials: give client_id + refresh_token (OAuth 2.0) or "
                + ", ".join(_OAUTH1_FIELDS)
                + " (OAuth 1.0a)"
            )
        return self

    def oauth1_keys(self) -> list[SecretStr | None]:
        """``api_key``, ``api_secret``, ``access_token``, ``access_token_secret``, in order."""
        return [self.api_key, self.api_secret, self.access_token, self.access_token_secret]

    @property
    def uses_oauth2(self) -> bool:
        """Whether the account authenticates with OAuth 2.0 (else OAuth 1.0a)."""
        return self.refresh_token is not None
