"""The ``accounts:`` entry of a dev.to (or other Forem) account."""

from __future__ import annotations

from pydantic import ConfigDict, Field, SecretStr, field_validator

from connectors.base import ConnectorSettings
from connectors.longform import site_address


class DevtoSettings(ConnectorSettings):
    """The ``accounts:`` entry of a dev.to account.

    Attributes:
        api_key: the key made under Settings → Extensions → DEV Community API Keys.
        base_url: the Forem instance; ``https://dev.to`` unless you post to another one.
        published: publish at once (True) or keep new articles as drafts (False).
        organization_id: publish under this organization (you must be a member).
        series: the series every article joins unless its options name another.
    """

    # Validation errors would otherwise echo the whole entry, key included.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    api_key: SecretStr
    base_url: str = "https://dev.to"
    published: bool = True
    organization_id: int | None = Field(default=None, gt=0)
    series: str | None = Field(default=None, min_length=1)

    @field_validator("base_url")
    @classmethod
    def _https_origin(cls, value: str) -> str:
        return site_address(value, "https://dev.to", path=False)

    @field_validator("api_key")
    @classmethod
    def _usable(cls, value: SecretStr) -> SecretStr:
        key = value.get_secret_value()
        if not key.strip() or any(c.isspace() for c in key):
            raise ValueError("must be a non-empty key without spaces")
        return value
