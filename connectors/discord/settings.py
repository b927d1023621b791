"""The ``accounts:`` entry of a Discord channel: a webhook, or a bot and its channel."""

from __future__ import annotations

from pydantic import SecretStr, field_validator, model_validator

from connectors.base import (
    ConnectorSettings,
)
from connectors.discord.constants import _SNOWFLAKE_RE, _WEBHOOK_URL_RE


class DiscordSettings(ConnectorSettings):
    """One Discord channel: either ``webhook_url`` or ``bot_token`` + ``channel_id``.

    Attributes:
        webhook_url: the channel webhook's URL; the URL itself is the secret.
        bot_token: a bot token from the Developer Portal.
        channel_id: the channel the bot posts in (bot mode only).
        guild_id: the server, for member counts and message links.
    """

    webhook_url: SecretStr | None = None
    bot_token: SecretStr | None = None
    channel_id: str | None = None
    guild_id: str | None = None

    @field_validator("channel_id", "guild_id", mode="before")
    @classmethod
    def _snowflake(cls, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # YAML reads a bare id as a number
        if isinstance(value, str) and not _SNOWFLAKE_RE.match(value):
            raise ValueError("must be a Discord id (digits only, e.g. 1234567890123456789)")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _WEBHOOK_URL_RE.match(value.get_secret_value()):
            raise ValueError(
                "must look like https://discord.com/api/webhooks/<id>/<token> "
                "(channel settings > Integrations > Webhooks > Copy Webhook URL)"
            )
        return value

    @model_validator(mode="after")
    def _one_mode(self) -> DiscordSettings:
        if (self.webhook_url is None) == (self.bot_token is None):
            raise ValueError(
                "set exactly one of webhook_url (webhook mode) or "
                "bot_token with channel_id (bot mode)"
            )
        if self.bot_token is not None and not self.channel_id:
            raise ValueError("bot mode needs channel_id: the channel the bot posts in")
        if self.webhook_url is not None and self.channel_id:
            raise ValueError("webhook mode takes no channel_id: the webhook fixes the channel")
        if self.bot_token is not None and not self.bot_token.get_secret_value().strip():
            raise ValueError("bot_token is empty")
        return self
