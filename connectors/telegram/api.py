"""The Bot API envelope: ``ok``, ``result``, ``error_code`` and ``parameters`` read in one place."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TypeVar

import requests
from pydantic import JsonValue, TypeAdapter, ValidationError

from connectors.http import (
    HttpClient,
    HttpConnector,
    Kind,
    Outcome,
    Verdict,
    retry_after_seconds,
)
from connectors.telegram.models import Envelope, ResponseParameters
from connectors.telegram.settings import TelegramSettings
from crosspost.logs import mask_secrets

_T = TypeVar("_T")
#: A JSON request body.
Payload = Mapping[str, JsonValue]
#: A multipart file: name, content, MIME type.
Upload = tuple[str, bytes, str]

#: How Telegram says the bot may not post there (403 in channels, 400 in groups).
_RIGHTS_RE = re.compile(
    r"not enough rights|need administrator rights|bot is not a member|bot was kicked", re.I
)


class TelegramApi(HttpConnector[TelegramSettings]):
    """Calls of the Bot API; the connector and its update reader build on it."""

    def _make_client(self) -> HttpClient:
        token = self.settings.bot_token.get_secret_value()
        # The token is part of every URL (/bot<token>/method), which urllib3 logs
        # (request lines, retries): masked there by the one masking of crosspost.logs.
        mask_secrets([token])
        return HttpClient(
            self.name,
            self.account,
            base_url=f"{self.settings.api_url}/bot{token}",
            secrets=[token],
            classify=self.classify,
        )

    # -- the Bot API envelope -------------------------------------------------

    def _call(
        self,
        api_method: str,
        kind: Kind,
        result: TypeAdapter[_T],
        *,
        params: Mapping[str, str | int] | None = None,
        json: Payload | None = None,
        data: Mapping[str, str] | None = None,
        files: Mapping[str, Upload] | None = None,
        timeout: tuple[float, float] | None = None,
    ) -> _T:
        """Call ``api_method`` and return its ``result`` read as ``result``; reads are GETs.

        An answer without ``ok``/``result``, or a result of another shape, is
        unreadable: ``Unknown`` for a publishing request, ``Transient`` for a read.
        ``timeout`` (connect, read) replaces the client's for a call Telegram holds open.
        """
        method = "GET" if kind is Kind.READ else "POST"
        response = self.http.request(
            method,
            api_method,
            kind=kind,
            params=params,
            json=json,
            data=data,
            files=files,
            timeout=timeout or self.http.timeout,
        )
        try:
            envelope = Envelope.model_validate(self.http.json_object(response, kind))
            if envelope.ok is not True or "result" not in envelope.model_fields_set:
                raise ValueError("no result")
            return result.validate_python(envelope.result)
        except ValueError:  # pydantic's ValidationError is one too
            message = f"{api_method} answered without a readable result"
            raise self.http.unreadable(message, kind) from None

    def classify(self, response: requests.Response) -> Verdict | None:
        """The Bot API envelope: ``ok:false``, ``error_code``, ``description``, ``parameters``."""
        envelope = _envelope(response)
        if response.ok and envelope.ok is not False:
            return None
        code = envelope.error_code or response.status_code
        reason = envelope.description or response.reason or f"error {code}"
        parameters = envelope.parameters or ResponseParameters()
        if code == 429 or parameters.retry_after is not None:
            seconds = retry_after_seconds(parameters.retry_after)
            return Verdict(Outcome.RATE_LIMITED, f"rate limited: {reason}", 429, seconds)
        return self._refusal(code, reason, parameters)

    def _refusal(self, code: int, reason: str, parameters: ResponseParameters) -> Verdict:
        if parameters.migrate_to_chat_id is not None:
            new = parameters.migrate_to_chat_id
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


def _envelope(response: requests.Response) -> Envelope:
    """The answer's envelope; an empty one when the body is not a JSON object."""
    try:
        return Envelope.model_validate(response.json())
    except (ValueError, ValidationError):
        return Envelope()
