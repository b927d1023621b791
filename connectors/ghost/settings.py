"""The ``accounts:`` entry of a Ghost site."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import ConfigDict, Field, SecretStr, field_validator

from connectors.base import ConnectorSettings
from connectors.longform import site_address

#: ``{id}:{secret}`` as Ghost shows it: a hex id, a colon, a hex secret of whole bytes.
_ADMIN_KEY = re.compile(r"^[0-9a-f]+:(?:[0-9a-f]{2})+$")


class GhostSettings(ConnectorSettings):
    """The ``accounts:`` entry of a Ghost site.

    Attributes:
        url: the site's address (its admin domain, if that is another one).
        admin_api_key: the Admin API key of a custom integration, ``{id}:{secret}``.
        status: ``published`` (default) or ``draft`` for every new post.
        newsletter: the slug of a newsletter: published posts are also emailed to it.
        email_segment: which members get the email (an NQL filter: ``all``,
            ``status:free``, ``status:-free``).
    """

    # Validation errors would otherwise echo the whole entry, key included.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    url: str
    admin_api_key: SecretStr
    status: Literal["published", "draft"] = "published"
    newsletter: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]*$")
    email_segment: str = Field(default="all", min_length=1)

    @field_validator("url")
    @classmethod
    def _https_origin(cls, value: str) -> str:
        return site_address(value, "https://blog.example.org")

    @field_validator("admin_api_key")
    @classmethod
    def _id_and_secret(cls, value: SecretStr) -> SecretStr:
        if not _ADMIN_KEY.match(value.get_secret_value().strip().lower()):
            raise ValueError(
                "must be the Admin API key as Ghost shows it: {id}:{secret}, both hexadecimal"
            )
        return value

    @property
    def key_parts(self) -> tuple[str, str]:
        """The key's id and secret."""
        key_id, _, secret = self.admin_api_key.get_secret_value().strip().lower().partition(":")
        return key_id, secret
