"""The Bot API envelope: ``ok``, ``error_code`` and ``parameters`` read in one place."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import requests

from connectors.http import (
    HttpClient,
    HttpConnector,
    Kind,
    Outcome,
    Verdict,
    retry_after_seconds,
)
from connectors.telegram.settings import TelegramSettings

#: How Telegram says the bot may not post there (403 in channels, 400 in groups).
_RIGHTS_RE = re.compile(
    r"not enough rights|need administrator rights|bot is not a member|bot was kicked", re.I
)


class _RedactTokens(logging.Filter):
    """Masks bot tokens in urllib3's ``"POST /bot<token>/… HTTP/1.1" 200`` debug lines."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(token in message for token in self.tokens):
            for token in self.tokens:
                message = message.replace(token, "***")
            record.msg, record.args = message, None
        return True


_REDACTOR = _RedactTokens()
logging.getLogger("urllib3.connectionpool").addFilter(_REDACTOR)


class TelegramApi(HttpConnector[TelegramSettings]):
    """Calls of the Bot API; the connector and its update reader build on it."""

    def _make_client(self) -> HttpClient:
        token = self.settings.bot_token.get_secret_value()
        _REDACTOR.tokens.add(token)
        return HttpClient(
            self.name,
            self.account,
            base_url=f"{self.settings.api_url}/bot{token}",
            secrets=[token],
            classify=self.classify,
        )

    # -- the Bot API envelope -------------------------------------------------

    def _call(self, api_method: str, kind: Kind, **kwargs: Any) -> Any:
        """Call ``api_method`` and return its ``result``; reads are GETs, the rest POSTs."""
        method = "GET" if kind is Kind.READ else "POST"
        response = self.http.request(method, api_method, kind=kind, **kwargs)
        body = self.http.json_object(response, kind)
        if body.get("ok") is not True or "result" not in body:
            raise self.http.unreadable(f"{api_method} answered without ok/result", kind)
        return body["result"]

    def classify(self, response: requests.Response) -> Verdict | None:
        """The Bot API envelope: ``ok:false``, ``error_code``, ``description``, ``parameters``."""
        body = _json_or_empty(response)
        if response.ok and body.get("ok") is not False:
            return None
        code = body.get("error_code") if isinstance(body.get("error_code"), int) else None
        code = code or response.status_code
        reason = str(body.get("description") or response.reason or f"error {code}")
        found = body.get("parameters")
        parameters: dict[str, Any] = found if isinstance(found, dict) else {}
        if code == 429 or "retry_after" in parameters:
            seconds = retry_after_seconds(parameters.get("retry_after"))
            return Verdict(Outcome.RATE_LIMITED, f"rate limited: {reason}", 429, seconds)
        return self._refusal(code, reason, parameters)

    def _refusal(self, code: int, reason: str, parameters: Mapping[str, Any]) -> Verdict:
        if "migrate_to_chat_id" in parameters:
            new = parameters["migrate_to_chat_id"]
            message = f"{reason}; the group is now a supergroup: set chat_id to {new}"
            return Verdict(Outcome.REJECTED, message, code)
        if code in (401, 404):
            return Verdict(Outcome.AUTH, f"the bot token was refused ({reason})", code)
        if code == 403 or _RIGHTS_RE.search(reason):
            return Verdict(Outcome.AUTH, _not_admin(reason, self.settings.chat_id), code)
        if code == 409 and "webhook" not in reason.lower():
            # "terminated by other getUpdates request": another reader polls this bot.
            message = f"another program reads this bot's updates: {reason}"
            return Verdict(Outcome.PLATFORM_FAILED, message, code)
        if 400 <= code < 500:
            return Verdict(Outcome.REJECTED, reason, code)
        return Verdict(Outcome.PLATFORM_FAILED, f"platform error: {reason}", code)


def _not_admin(reason: str, chat_id: str) -> str:
    return (
        f"{reason}. Add the bot to {chat_id} as an administrator with the "
        f"can_post_messages right (Post Messages)"
    )


def _json_or_empty(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
