"""The ``accounts:`` entry of a Telegram bot and chat."""

from __future__ import annotations

import re

from pydantic import ConfigDict, SecretStr, ValidationInfo, field_validator

from connectors.base import (
    ConnectorSettings,
)

_USERNAME_RE = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}")
_NUMERIC_RE = re.compile(r"-?[0-9]+")
_TOKEN_RE = re.compile(r"[0-9]+:[A-Za-z0-9_-]{20,}")


class TelegramSettings(ConnectorSettings):
    """The ``accounts:`` entry of a Telegram channel or group.

    Attributes:
        bot_token: from @BotFather, e.g. ``${TELEGRAM_BOT_TOKEN}``.
        chat_id: ``@channelusername`` or the numeric id (``-100…`` for channels).
        disable_notification: deliver silently.
        link_preview: show a preview of the first link of text posts.
        api_url: root of the Bot API server (a local ``telegram-bot-api`` works too).
        inbox: read comments, replies and mentions (``message`` updates); off keeps
            the bot to reaction counts and never stores member messages.
        inbox_stream: the daemon waits on Telegram for updates (long polling), so that
            a member's message is read as it arrives, not at the next poll; needs
            ``inbox``.
    """

    # Validation errors would otherwise echo the token they refused.
    model_config = ConfigDict(hide_input_in_errors=True)

    bot_token: SecretStr
    chat_id: str
    disable_notification: bool = False
    link_preview: bool = True
    api_url: str = "https://api.telegram.org"
    inbox: bool = True
    inbox_stream: bool = False

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        if not _TOKEN_RE.fullmatch(value.get_secret_value()):
            raise ValueError("expected a bot token like 123456:ABC-DEF… from @BotFather")
        return value

    @field_validator("chat_id", mode="before")
    @classmethod
    def _chat_id(cls, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # YAML reads -100123 as a number
        if isinstance(value, str) and (
            _USERNAME_RE.fullmatch(value) or _NUMERIC_RE.fullmatch(value)
        ):
            return value
        raise ValueError("expected @channelusername or a numeric chat id such as -1001234567890")

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("expected an http(s):// URL")
        return value.rstrip("/")

    @field_validator("inbox_stream")
    @classmethod
    def _stream_needs_the_inbox(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("inbox") is False:
            raise ValueError("needs inbox: true (the stream reads the inbox)")
        return value
