"""Discord's HTTP side: its user agent, error bodies and codes, rate-limit routes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Unpack

import requests

from connectors.discord.constants import _PERMISSION_CODES, _UNKNOWN_WEBHOOK, _WEBHOOK_URL_RE
from connectors.discord.settings import DiscordSettings
from connectors.discord.shapes import ErrorBody
from connectors.http import (
    PROJECT_URL,
    HttpClient,
    HttpConnector,
    Kind,
    Outcome,
    RateBuckets,
    RequestOptions,
    Verdict,
    crosspost_version,
    describe_object,
    retry_after_seconds,
)
from connectors.payload import JSONObject, read_model


def _discord_user_agent() -> str:
    """Discord asks bots for ``DiscordBot ($url, $version)``."""
    return f"DiscordBot ({PROJECT_URL}, {crosspost_version()})"


def _error_body(response: requests.Response) -> ErrorBody:
    try:
        body = read_model(ErrorBody, response.json())
    except ValueError:
        body = None
    return body or ErrorBody.empty()


@describe_object
def _describe(response: requests.Response, body: JSONObject) -> str:
    """Discord's ``message`` and ``code``, plus the first field errors of a 50035."""
    error = read_model(ErrorBody, body) or ErrorBody.empty()
    text = error.message or response.reason or "no reason given"
    if error.code:
        text = f"{text} (code {error.code})"
    details = _field_errors(error.errors, "")[:3]
    return f"{text}: {'; '.join(details)}" if details else text


def _field_errors(errors: object, path: str) -> list[str]:
    """``path: message`` for each leaf of Discord's nested ``errors`` object.

    The nesting follows the fields of the request, so it is walked, not modelled.
    """
    if not isinstance(errors, dict):
        return []
    found: list[str] = []
    for item in errors.get("_errors") or []:
        if isinstance(item, dict) and item.get("message"):
            found.append(f"{path or 'body'}: {item['message']}")
    for key, value in errors.items():
        if key != "_errors":
            found.extend(_field_errors(value, f"{path}.{key}" if path else str(key)))
    return found


def _error_code(response: requests.Response) -> int | None:
    return _error_body(response).code


class DiscordApi(HttpConnector[DiscordSettings]):
    """Requests of one Discord account, each in its rate-limit route."""

    _webhook: tuple[str, str] | None = None

    @staticmethod
    def _webhook_parts(settings: DiscordSettings) -> tuple[str, str] | None:
        if settings.webhook_url is None:
            return None
        match = _WEBHOOK_URL_RE.match(settings.webhook_url.get_secret_value())
        assert match is not None, "checked by the settings validator"
        return match["id"], match["token"]

    def _make_client(self) -> HttpClient:
        self._webhook = self._webhook_parts(self.settings)
        headers = {"User-Agent": _discord_user_agent()}
        secrets: list[str] = []
        if self.settings.bot_token is not None:
            token = self.settings.bot_token.get_secret_value()
            headers["Authorization"] = f"Bot {token}"
            secrets.append(token)
        if self.settings.webhook_url is not None and self._webhook is not None:
            secrets += [self.settings.webhook_url.get_secret_value(), self._webhook[1]]
        return HttpClient(
            self.name,
            self.account,
            base_url=self.base_url,
            headers=headers,
            secrets=secrets,
            describe=_describe,
            classify=self.classify,
            buckets=RateBuckets(),
        )

    def _message_route(self, channel: str, message: str) -> tuple[str, str, str]:
        if self._webhook is not None:
            hook_id, token = self._webhook
            return f"/webhooks/{hook_id}/{token}/messages/{message}", "/webhooks/messages", hook_id
        return f"/channels/{channel}/messages/{message}", "/channels/messages/id", channel

    # -- HTTP, rate limits and errors -------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        route: str,
        major: str,
        *,
        kind: Kind,
        ok: Sequence[int] = (),
        **options: Unpack[RequestOptions],
    ) -> requests.Response:
        """One request in its rate-limit bucket (``route`` and its major parameter)."""
        route_key = f"{route} {major}"
        response = self.http.request(method, path, kind=kind, ok=ok, route=route_key, **options)
        if response.status_code in ok and _error_code(response) == _UNKNOWN_WEBHOOK:
            raise self.http.failure(response, kind)
        return response

    def classify(self, response: requests.Response) -> Verdict | None:
        """Discord's JSON error codes: a deleted webhook, missing permissions, 429 bodies."""
        if response.ok:
            return None
        status, code = response.status_code, _error_code(response)
        reason = self.http.describe(response)
        if status == 429:
            return self._too_many(response, reason)
        if status == 404 and self._webhook is not None and code == _UNKNOWN_WEBHOOK:
            return Verdict(Outcome.AUTH, "the webhook was deleted; create a new one", status)
        if status == 403 and code in _PERMISSION_CODES:
            return Verdict(
                Outcome.AUTH,
                f"{reason}; give the bot View Channel, Send Messages, Attach Files and "
                "Read Message History in this channel",
                status,
            )
        if status == 401:
            what = "webhook" if self._webhook is not None else "bot token"
            return Verdict(Outcome.AUTH, f"the {what} was refused: {reason}", status)
        return None

    @staticmethod
    def _too_many(response: requests.Response, reason: str) -> Verdict:
        body = _error_body(response)
        scope = response.headers.get("X-RateLimit-Scope", "")
        every_route = (
            body.every_route is True or response.headers.get("X-RateLimit-Global") == "true"
        )
        if every_route:
            scope = "global"
        label = f" ({scope})" if scope else ""
        return Verdict(
            Outcome.RATE_LIMITED,
            f"rate limited{label}: {reason}",
            429,
            retry_after=retry_after_seconds(body.retry_after),
            global_limit=every_route,
        )

    def _channel(self) -> str:
        assert self.settings.channel_id, "bot mode always has a channel (settings validator)"
        return self.settings.channel_id
