"""The ``accounts:`` entry of a WordPress site."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, SecretStr, field_validator

from connectors.base import ConnectorSettings
from connectors.longform import site_address


class WordPressSettings(ConnectorSettings):
    """The ``accounts:`` entry of a self-hosted WordPress site.

    Attributes:
        url: the site's address (WordPress Address), ``/wp-json`` is added.
        username: the user the application password belongs to.
        application_password: made under Users → Profile → Application Passwords.
        status: ``publish`` (default), ``draft``, ``pending`` or ``private``.
        categories: category names every post is filed under (made when missing).
    """

    # Validation errors would otherwise echo the whole entry, password included.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    url: str
    username: str = Field(min_length=1)
    application_password: SecretStr
    status: Literal["publish", "draft", "pending", "private"] = "publish"
    categories: list[str] = []

    @field_validator("url")
    @classmethod
    def _https_origin(cls, value: str) -> str:
        return site_address(value, "https://blog.example.org")

    @field_validator("application_password")
    @classmethod
    def _usable(cls, value: SecretStr) -> SecretStr:
        # WordPress shows it in groups of four ("abcd efgh …"); the spaces are optional
        if len("".join(value.get_secret_value().split())) < 8:
            raise ValueError("must be the application password WordPress showed (24 characters)")
        return value
