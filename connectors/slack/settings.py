"""The ``accounts:`` entry of a slack account."""

from __future__ import annotations

from pydantic import ConfigDict, Field, SecretStr, field_validator

from connectors.base import (
    ConnectorSettings,
)


class SlackSettings(ConnectorSettings):
    """The ``accounts:`` entry of a Slack channel.

    Attributes:
        bot_token: the app's bot token (``xoxb-…``).
        channel: the channel ID (``C…`` public, ``G…`` private), not its name.
        unfurl_links: show previews of text links; Slack's default when unset.
        username: post under this name (needs ``chat:write.customize``).
        icon_emoji: post with this emoji as avatar, e.g. ``:mega:``.
    """

    # Validation errors would otherwise echo the whole entry, token included.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    bot_token: SecretStr
    channel: str = Field(pattern=r"^[CGD][A-Z0-9]{8,}$")
    unfurl_links: bool | None = None
    username: str | None = Field(default=None, min_length=1, max_length=80)
    icon_emoji: str | None = Field(default=None, pattern=r"^:[a-z0-9_+'\-]+:$")

    @field_validator("bot_token")
    @classmethod
    def _token_is_usable(cls, value: SecretStr) -> SecretStr:
        token = value.get_secret_value()
        if not token.strip() or any(c.isspace() for c in token):
            raise ValueError("bot_token must be a non-empty token without spaces")
        return value
