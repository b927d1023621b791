"""Discord: post to a channel through a webhook or as a bot.

API pages used:

- https://discord.com/developers/docs/resources/webhook#execute-webhook
- https://discord.com/developers/docs/resources/message#create-message
- https://discord.com/developers/docs/resources/message#get-channel-message
- https://discord.com/developers/docs/resources/message#get-channel-messages
- https://discord.com/developers/docs/resources/message#message-object (types, message_reference)
- https://discord.com/developers/docs/resources/user#get-current-user
- https://discord.com/developers/docs/resources/poll#poll-create-request-object
- https://discord.com/developers/docs/reference#uploading-files
- https://discord.com/developers/docs/resources/guild#get-guild
- https://discord.com/developers/docs/topics/rate-limits
- https://discord.com/developers/docs/topics/opcodes-and-status-codes#json-json-error-codes

Two modes, chosen by the settings: a webhook URL (no bot needed, but no
idempotency key and no way to list the channel) or a bot token plus a channel
id (``nonce`` + ``enforce_nonce`` make a resend return the first message).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import requests
from pydantic import SecretStr, field_validator, model_validator

from connectors.base import (
    AccountMetrics,
    Capability,
    ConnectorSettings,
    ConnectorState,
    Extra,
    InboxItem,
    InboxPage,
    Limits,
    Metrics,
    Published,
    Rejected,
    RenderedPost,
    ThreadPart,
)
from connectors.http import (
    PROJECT_URL,
    HttpClient,
    HttpConnector,
    Kind,
    Outcome,
    RateBuckets,
    Verdict,
    crosspost_version,
    retry_after_seconds,
    summarise_body,
)

__all__ = ["DiscordConnector"]

API = "https://discord.com/api/v10"
WEB = "https://discord.com/channels"
#: Request size Discord accepts for a message with its files.
MAX_REQUEST_BYTES = 25 * 1024 * 1024
POLL_QUESTION_MAX = 300
POLL_MAX_HOURS = 32 * 24
EMBED_TITLE_MAX = 256
NONCE_LENGTH = 25
MENTION_KINDS = frozenset({"users", "roles", "everyone"})
#: Every error status; ``_send`` maps them itself so it can read Discord's body first.
_PERMISSION_CODES = frozenset({50001, 50013})
_UNKNOWN_WEBHOOK = 10015
_UNKNOWN_MESSAGE = 10008
_WEBHOOK_URL_RE = re.compile(
    r"^https://(?:(?:ptb|canary)\.)?discord(?:app)?\.com/api(?:/v\d+)?"
    r"/webhooks/(?P<id>\d+)/(?P<token>[\w-]+)/?$"
)
_SNOWFLAKE_RE = re.compile(r"^\d{1,20}$")
#: Messages per ``GET /channels/{id}/messages`` page (Discord's maximum).
INBOX_PAGE = 100
#: Pages read per ``fetch_inbox`` call when catching up from a cursor.
INBOX_PAGES = 5
#: Message types a member writes (DEFAULT, REPLY); the rest are system messages.
_MEMBER_TYPES = frozenset({0, 19})
_FORWARD = 1
#: Milliseconds from the Unix epoch to Discord's (snowflakes count from 2015-01-01).
DISCORD_EPOCH_MS = 1_420_070_400_000

_BOT_CAPABILITIES = frozenset(
    {
        Capability.THREADS,
        Capability.POLLS,
        Capability.MEDIA,
        Capability.IDEMPOTENCY_KEY,
        Capability.RECONCILE,
        Capability.DELETE,
        Capability.INBOX,
    }
)
#: A webhook cannot read its channel: no nonce, no reconciliation, no inbox.
_WEBHOOK_CAPABILITIES = _BOT_CAPABILITIES - {
    Capability.IDEMPOTENCY_KEY,
    Capability.RECONCILE,
    Capability.INBOX,
}


def _discord_user_agent() -> str:
    """Discord asks bots for ``DiscordBot ($url, $version)``."""
    return f"DiscordBot ({PROJECT_URL}, {crosspost_version()})"


def nonce_for(idempotency_key: str) -> str:
    """The ``nonce`` sent for ``idempotency_key``: stable, at most 25 characters."""
    return hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:NONCE_LENGTH]


def _describe(response: requests.Response) -> str:
    """Discord's ``message`` and ``code``, plus the first field errors of a 50035."""
    try:
        body = response.json()
    except ValueError:
        return summarise_body(response)
    if not isinstance(body, dict):
        return str(body)[:200]
    text = str(body.get("message") or response.reason or "no reason given")
    if body.get("code"):
        text = f"{text} (code {body['code']})"
    details = _field_errors(body.get("errors"), "")[:3]
    return f"{text}: {'; '.join(details)}" if details else text


def _field_errors(errors: Any, path: str) -> list[str]:
    """``path: message`` for each leaf of Discord's nested ``errors`` object."""
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
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, int) else None


class DiscordConnector(HttpConnector["DiscordConnector.Settings"]):
    """Posts to one Discord channel, as a webhook or as a bot."""

    name: ClassVar[str] = "discord"
    docs_url: ClassVar[str] = "https://discord.com/developers/docs/resources/message#create-message"
    base_url: ClassVar[str] = API
    limits: ClassVar[Limits] = Limits(
        max_length=2000,
        unit="characters",
        max_media=10,
        max_media_bytes=MAX_REQUEST_BYTES,
        alt_text_max=1024,
        max_poll_options=10,
        max_poll_option_length=55,
    )
    #: Bot mode; a webhook account has neither a key nor a channel to search.
    capabilities: frozenset[Capability] = _BOT_CAPABILITIES

    class Settings(ConnectorSettings):
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
        def _snowflake(cls, value: Any) -> Any:
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
        def _one_mode(self) -> DiscordConnector.Settings:
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

    def __init__(
        self,
        account: str,
        settings: ConnectorSettings,
        state: ConnectorState | None = None,
    ) -> None:
        if not isinstance(settings, DiscordConnector.Settings):
            raise TypeError("DiscordConnector needs DiscordConnector.Settings")
        self._webhook = self._webhook_parts(settings)
        self._bot_id: str | None = None
        super().__init__(account, settings, state)

    @classmethod
    def capabilities_for(cls, settings: ConnectorSettings) -> frozenset[Capability]:
        """A webhook takes no nonce and cannot read its channel, so a resend is not harmless."""
        if isinstance(settings, DiscordConnector.Settings) and settings.webhook_url is not None:
            return _WEBHOOK_CAPABILITIES
        return cls.capabilities

    @staticmethod
    def _webhook_parts(settings: DiscordConnector.Settings) -> tuple[str, str] | None:
        if settings.webhook_url is None:
            return None
        match = _WEBHOOK_URL_RE.match(settings.webhook_url.get_secret_value())
        assert match is not None, "checked by the settings validator"
        return match["id"], match["token"]

    def _make_client(self) -> HttpClient:
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

    # -- counting and checks ----------------------------------------------------

    def measure(self, text: str) -> int:
        """Length in Unicode code points, as Discord's API validates ``content``."""
        return len(text)

    def _check_media(self, post: RenderedPost, limits: Limits) -> list[str]:
        """The shared media rules, alt text in code points and the size of one request."""
        problems = super()._check_media(post, limits)
        return [*problems, *self._check_alt_code_points(post), *self._check_request_size(post)]

    def _check_poll(self, post: RenderedPost, limits: Limits) -> list[str]:
        """The shared poll rules plus Discord's question, option and duration rules."""
        return [*super()._check_poll(post, limits), *self._check_discord_poll(post)]

    def _check_alt_code_points(self, post: RenderedPost) -> list[str]:
        limit = self.limits.alt_text_max
        return [
            f"{item.path.name}: alt text is {len(item.alt)} characters (at most {limit})"
            for item in post.media
            if len(item.alt) > limit
        ]

    def _check_discord_poll(self, post: RenderedPost) -> list[str]:
        if post.poll is None:
            return []
        problems = []
        question = self._poll_question(post)
        if not question.strip() or len(question) > POLL_QUESTION_MAX:
            problems.append(
                f"poll question must be 1 to {POLL_QUESTION_MAX} characters; set a title "
                "or options.poll_question"
            )
        longest = self.limits.max_poll_option_length
        problems += [
            f"poll option {option!r} is longer than {longest} characters"
            for option in post.poll.options
            if len(option) > longest
        ]
        hours = self._poll_hours(post.poll.duration)
        if not 1 <= hours <= POLL_MAX_HOURS:
            problems.append(f"poll lasts {hours} hours (1 to {POLL_MAX_HOURS} on discord)")
        return problems

    def _check_request_size(self, post: RenderedPost) -> list[str]:
        total = 0
        for item in post.media:
            try:
                total += item.path.stat().st_size
            except OSError:
                return []  # the base check already reports the missing file
        if total > MAX_REQUEST_BYTES:
            return [f"media add up to {total} bytes (at most {MAX_REQUEST_BYTES} per message)"]
        return []

    def _check_options(self, post: RenderedPost) -> list[str]:
        problems = []
        mentions = post.options.get("allowed_mentions", [])
        if not isinstance(mentions, list | tuple) or not all(
            isinstance(m, str) and m in MENTION_KINDS for m in mentions
        ):
            problems.append(
                f"options.allowed_mentions must be a list of {', '.join(sorted(MENTION_KINDS))}"
            )
        if self._wants_embed(post) and len(post.title) > EMBED_TITLE_MAX:
            problems.append(f"embed title is longer than {EMBED_TITLE_MAX} characters")
        return problems

    # -- publishing -------------------------------------------------------------

    def _publish_part(self, post: RenderedPost, part: ThreadPart) -> Published:
        """Send one message; later parts reply to the one before (bot mode)."""
        index, text, reply_to, idempotency_key = (
            part.index,
            part.text,
            part.reply_to,
            part.idempotency_key,
        )
        payload = self._payload(post, index, text)
        if self._webhook is None:
            payload["nonce"] = nonce_for(idempotency_key)
            payload["enforce_nonce"] = True
            if reply_to is not None:
                payload["message_reference"] = {
                    "message_id": reply_to.extra["message_id"],
                    "fail_if_not_exists": False,
                }
        files = self._files(post) if index == 0 and post.media else None
        kind = Kind.PUBLISHING_WRITE if self._webhook is not None else Kind.KEYED_WRITE
        response = self._send_message(payload, files, kind)
        return self._published(self.http.json_object(response, kind), kind)

    def _payload(self, post: RenderedPost, index: int, text: str) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "content": text,
            "allowed_mentions": {"parse": list(post.options.get("allowed_mentions", []))},
        }
        if index > 0:
            return payload
        if self._wants_embed(post):
            payload["embeds"] = [{"title": post.title, "url": post.link}]
        if post.poll is not None:
            payload["poll"] = {
                "question": {"text": self._poll_question(post)},
                "answers": [{"poll_media": {"text": option}} for option in post.poll.options],
                "duration": self._poll_hours(post.poll.duration),
                "allow_multiselect": post.poll.multiple,
            }
        if post.media:
            payload["attachments"] = [
                {"id": n, "filename": item.path.name, "description": item.alt}
                for n, item in enumerate(post.media)
            ]
        return payload

    @staticmethod
    def _wants_embed(post: RenderedPost) -> bool:
        return bool(post.options.get("embed", False) and post.link and post.title)

    @staticmethod
    def _poll_question(post: RenderedPost) -> str:
        return str(post.options.get("poll_question") or post.title or post.text)

    @staticmethod
    def _poll_hours(duration: timedelta) -> int:
        return math.ceil(duration.total_seconds() / 3600)

    def _files(self, post: RenderedPost) -> list[tuple[str, tuple[str, bytes, str]]]:
        files = []
        for n, item in enumerate(post.media):
            try:
                data = item.path.read_bytes()
            except OSError as exc:
                raise self.error(
                    Rejected, f"{item.path.name}: cannot read ({exc.strerror})"
                ) from None
            files.append((f"files[{n}]", (item.path.name, data, item.mime_type)))
        return files

    def _send_message(
        self,
        payload: dict[str, Any],
        files: list[tuple[str, tuple[str, bytes, str]]] | None,
        kind: Kind,
    ) -> requests.Response:
        body: dict[str, Any] = (
            {"files": files, "data": {"payload_json": json.dumps(payload)}}
            if files
            else {"json": payload}
        )
        if self._webhook is not None:
            hook_id, token = self._webhook
            return self._send(
                "POST",
                f"/webhooks/{hook_id}/{token}",
                "POST /webhooks",
                hook_id,
                kind=kind,
                params={"wait": "true"},
                **body,
            )
        channel = self._channel()
        # The nonce with enforce_nonce makes a resend return the first message.
        return self._send(
            "POST",
            f"/channels/{channel}/messages",
            "POST /channels/messages",
            channel,
            kind=kind,
            **body,
        )

    def _published(self, message: Mapping[str, Any], kind: Kind) -> Published:
        """The ``Published`` for a message object; a message without ids is unreadable."""
        message_id = message.get("id")
        channel_id = message.get("channel_id") or self.settings.channel_id
        if not isinstance(message_id, str) or not isinstance(channel_id, str):
            raise self.http.unreadable("Discord's answer has no message id", kind)
        guild = message.get("guild_id") or self.settings.guild_id or "@me"
        return Published(
            remote_id=f"{channel_id}:{message_id}",
            url=f"{WEB}/{guild}/{channel_id}/{message_id}",
            published_at=_timestamp(message.get("timestamp")),
            extra={"channel_id": channel_id, "message_id": message_id},
        )

    # -- reading back -----------------------------------------------------------

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        """Reactions per message (one request each); replies are not counted by Discord.

        Raises:
            AuthError, RateLimited, Transient.
        """
        found: dict[str, Metrics] = {}
        for remote_id in remote_ids:
            message = self._get_message(remote_id)
            if message is not None:
                found[remote_id] = _metrics(message)
        return found

    def _get_message(self, remote_id: str) -> Mapping[str, Any] | None:
        ids = _split_remote_id(remote_id)
        if ids is None:
            return None
        path, route, major = self._message_route(*ids)
        response = self._send("GET", path, f"GET {route}", major, kind=Kind.READ, ok=(404,))
        if response.status_code == 404:
            return None
        return self.http.json_object(response, Kind.READ)

    def account_metrics(self) -> AccountMetrics:
        """Member count of the server (bot mode with ``guild_id``); nothing for webhooks.

        Raises:
            AuthError, RateLimited, Transient.
        """
        guild = self.settings.guild_id
        if self._webhook is not None or not guild:
            return AccountMetrics()
        response = self._send(
            "GET",
            f"/guilds/{guild}",
            "GET /guilds",
            guild,
            kind=Kind.READ,
            params={"with_counts": "true"},
        )
        body = self.http.json_object(response, Kind.READ)
        members = body.get("approximate_member_count")
        return AccountMetrics(
            members=members if isinstance(members, int) else None,
            raw={
                key: body[key]
                for key in ("approximate_member_count", "approximate_presence_count")
                if key in body
            },
        )

    def delete(self, remote_id: str, extra: Extra | None = None) -> None:
        """Delete a message; one that is already gone counts as deleted.

        Raises:
            Rejected: the id is not ``<channel>:<message>``.
            AuthError, RateLimited, Transient, Unknown.
        """
        ids = _split_remote_id(remote_id)
        if ids is None:
            raise self.error(Rejected, f"not a Discord message id: {remote_id!r}")
        path, route, major = self._message_route(*ids)
        kind = Kind.HARMLESS_WRITE
        response = self._send("DELETE", path, f"DELETE {route}", major, kind=kind, ok=(404,))
        if response.status_code == 404 and _error_code(response) != _UNKNOWN_MESSAGE:
            raise self.http.failure(response, kind)

    def find_recent(self, idempotency_key: str, text: str) -> Published | None:
        """Bot mode: the last 50 messages, matched by nonce or by the bot's identical text.

        Raises:
            AuthError, RateLimited, Transient.
        """
        if self._webhook is not None:
            return None  # a webhook cannot list its channel
        channel = self._channel()
        response = self._send(
            "GET",
            f"/channels/{channel}/messages",
            "GET /channels/messages",
            channel,
            kind=Kind.READ,
            params={"limit": "50"},
        )
        messages = self.http.json(response, Kind.READ)
        if not isinstance(messages, list):
            raise self.http.unreadable("Discord's message list is not a list", Kind.READ)
        nonce, wanted = nonce_for(idempotency_key), text.strip()
        for message in messages:
            if isinstance(message, dict) and _matches(message, nonce, wanted):
                return self._published(message, Kind.READ)
        return None

    # -- inbox ------------------------------------------------------------------

    def fetch_inbox(self, cursor: str | None) -> InboxPage:
        """Member messages in the channel newer than ``cursor`` (a message id), oldest first.

        ``GET /channels/{id}/messages?after=<cursor>&limit=100``, up to
        :data:`INBOX_PAGES` pages; without a cursor only the latest page is read.
        Messages of the bot itself, of other bots and of webhooks are skipped but
        still move the cursor, so they are not read again.

        Raises:
            Rejected: webhook mode (a webhook cannot read its channel).
            AuthError, RateLimited, Transient.
        """
        if self._webhook is not None:
            raise self.unable("inbox")
        bot_id = self._own_id()
        messages: list[dict[str, Any]] = []
        newest = cursor
        for _page in range(INBOX_PAGES if cursor else 1):
            page = self._messages_after(newest)
            messages += page
            if page:
                newest = max((m["id"] for m in page), key=int)
            if len(page) < INBOX_PAGE:
                break
        messages.sort(key=lambda m: int(m["id"]))
        ours = {m["id"] for m in messages if _author_id(m) == bot_id}
        items = [self._inbox_item(m, bot_id, ours) for m in messages]
        return InboxPage(tuple(item for item in items if item is not None), newest)

    def _own_id(self) -> str:
        """The bot's user id (``GET /users/@me``), asked once per connector."""
        if self._bot_id is None:
            response = self._send("GET", "/users/@me", "GET /users/@me", "@me", kind=Kind.READ)
            user_id = self.http.json_object(response, Kind.READ).get("id")
            if not isinstance(user_id, str) or not _SNOWFLAKE_RE.match(user_id):
                message = "Discord's /users/@me answer has no user id"
                raise self.http.unreadable(message, Kind.READ)
            self._bot_id = user_id
        return self._bot_id

    def _messages_after(self, after: str | None) -> list[dict[str, Any]]:
        channel = self._channel()
        params = {"limit": str(INBOX_PAGE), **({"after": after} if after else {})}
        response = self._send(
            "GET",
            f"/channels/{channel}/messages",
            "GET /channels/messages",
            channel,
            kind=Kind.READ,
            params=params,
        )
        body = self.http.json(response, Kind.READ)
        if not isinstance(body, list):
            raise self.http.unreadable("Discord's message list is not a list", Kind.READ)
        return [
            m for m in body if isinstance(m, dict) and _SNOWFLAKE_RE.match(str(m.get("id", "")))
        ]

    def _inbox_item(
        self, message: Mapping[str, Any], bot_id: str, ours: set[str]
    ) -> InboxItem | None:
        """An :class:`InboxItem` for a member's message; None for bots, webhooks and system."""
        author = message.get("author")
        if not isinstance(author, dict) or author.get("bot") is True or message.get("webhook_id"):
            return None
        if _author_id(message) in (bot_id, None) or message.get("type", 0) not in _MEMBER_TYPES:
            return None
        parent = _reply_target(message, bot_id, ours)
        mentioned = any(
            isinstance(user, dict) and str(user.get("id")) == bot_id
            for user in message.get("mentions") or []
        )
        channel = str(message.get("channel_id") or self._channel())
        guild = message.get("guild_id") or self.settings.guild_id or "@me"
        message_id = str(message["id"])
        return InboxItem(
            remote_id=f"{channel}:{message_id}",
            kind="reply" if parent else "mention" if mentioned else "comment",
            author=str(author.get("username") or ""),
            author_id=_author_id(message),
            text=str(message.get("content") or ""),
            url=f"{WEB}/{guild}/{channel}/{message_id}",
            created_at=_timestamp(message.get("timestamp"), message_id),
            in_reply_to=parent,
            raw={
                "message_id": message_id,
                "channel_id": channel,
                "type": message.get("type", 0),
                "attachments": len(message.get("attachments") or []),
            },
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
        **kwargs: Any,
    ) -> requests.Response:
        """One request in its rate-limit bucket (``route`` and its major parameter)."""
        route_key = f"{route} {major}"
        response = self.http.request(method, path, kind=kind, ok=ok, route=route_key, **kwargs)
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
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        scope = response.headers.get("X-RateLimit-Scope", "")
        every_route = (
            body.get("global") is True or response.headers.get("X-RateLimit-Global") == "true"
        )
        if every_route:
            scope = "global"
        label = f" ({scope})" if scope else ""
        return Verdict(
            Outcome.RATE_LIMITED,
            f"rate limited{label}: {reason}",
            429,
            retry_after=retry_after_seconds(body.get("retry_after")),
            global_limit=every_route,
        )

    def _channel(self) -> str:
        assert self.settings.channel_id, "bot mode always has a channel (settings validator)"
        return self.settings.channel_id


def _split_remote_id(remote_id: str) -> tuple[str, str] | None:
    channel, _, message = remote_id.partition(":")
    if _SNOWFLAKE_RE.match(channel) and _SNOWFLAKE_RE.match(message):
        return channel, message
    return None


def _timestamp(value: Any, snowflake: str | None = None) -> datetime:
    """An ISO 8601 ``timestamp``; else the time inside ``snowflake``; else now."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if snowflake is not None and _SNOWFLAKE_RE.match(snowflake):
        return datetime.fromtimestamp(((int(snowflake) >> 22) + DISCORD_EPOCH_MS) / 1000, UTC)
    return datetime.now(UTC)


def _author_id(message: Mapping[str, Any]) -> str | None:
    author = message.get("author")
    value = author.get("id") if isinstance(author, dict) else None
    return str(value) if value else None


def _reply_target(message: Mapping[str, Any], bot_id: str, ours: set[str]) -> str | None:
    """``"<channel>:<message>"`` of the bot's message this one replies to, else None.

    The referenced message's author says whether it is ours; when Discord did not
    include it (deleted, or not fetched), a bot message of the same page counts too.
    """
    reference = message.get("message_reference")
    if not isinstance(reference, dict) or reference.get("type", 0) == _FORWARD:
        return None
    target = reference.get("message_id")
    if not isinstance(target, str):
        return None
    referenced = message.get("referenced_message")
    by_us = target in ours or (isinstance(referenced, dict) and _author_id(referenced) == bot_id)
    if not by_us:
        return None
    return f"{reference.get('channel_id') or message.get('channel_id')}:{target}"


def _metrics(message: Mapping[str, Any]) -> Metrics:
    """``likes`` = every reaction of every emoji; ``raw`` keeps the count per emoji."""
    per_emoji: dict[str, int] = {}
    for reaction in message.get("reactions") or []:
        if not isinstance(reaction, dict) or not isinstance(reaction.get("count"), int):
            continue
        emoji = reaction.get("emoji")
        emoji = emoji if isinstance(emoji, dict) else {}
        label = str(emoji.get("name") or emoji.get("id") or "?")
        if emoji.get("id"):
            label = f"{label}:{emoji['id']}"
        per_emoji[label] = per_emoji.get(label, 0) + reaction["count"]
    return Metrics(likes=sum(per_emoji.values()), raw={"reactions": per_emoji})


def _matches(message: Mapping[str, Any], nonce: str, text: str) -> bool:
    if message.get("nonce") == nonce:
        return True
    author = message.get("author")
    by_bot = isinstance(author, dict) and author.get("bot") is True
    return by_bot and bool(text) and message.get("content") == text
