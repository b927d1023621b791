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

import json
import math
from datetime import timedelta
from typing import ClassVar

import requests

from connectors.base import (
    Capability,
    ConnectorSettings,
    Limits,
    Published,
    Rejected,
    RenderedPost,
    ThreadPart,
)
from connectors.discord.constants import (
    _BOT_CAPABILITIES,
    _WEBHOOK_CAPABILITIES,
    API,
    EMBED_TITLE_MAX,
    MAX_REQUEST_BYTES,
    MENTION_KINDS,
    POLL_MAX_HOURS,
    POLL_QUESTION_MAX,
    nonce_for,
)
from connectors.discord.doctor import DiscordDoctor
from connectors.discord.replies import DiscordReplies
from connectors.discord.settings import DiscordSettings
from connectors.discord.shapes import Message, MessageBody
from connectors.http import Kind, RequestOptions
from crosspost.rendering.markdown_forms import TextFormat
from crosspost.rendering.urls import UrlCounting

__all__ = ["DiscordConnector", "DiscordSettings", "nonce_for"]


class DiscordConnector(DiscordReplies, DiscordDoctor):
    """Posts to one Discord channel, as a webhook or as a bot."""

    name: ClassVar[str] = "discord"
    #: Texts arrive as Discord Markdown, escaped.
    text_format: ClassVar[TextFormat] = TextFormat.DISCORD
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

    Settings = DiscordSettings

    @classmethod
    def capabilities_for(cls, settings: ConnectorSettings) -> frozenset[Capability]:
        """A webhook takes no nonce and cannot read its channel, so a resend is not harmless."""
        if isinstance(settings, DiscordConnector.Settings) and settings.webhook_url is not None:
            return _WEBHOOK_CAPABILITIES
        return cls.capabilities

    # -- counting and checks ----------------------------------------------------

    def measure(self, text: str) -> int:
        """Length in Unicode code points, as Discord's API validates ``content``."""
        return len(text)

    @property
    def url_counting(self) -> UrlCounting:
        """Code points: a URL counts its characters, like any text."""
        return UrlCounting()

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
        if _allowed_mentions(post) is None:
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
                    "message_id": str(reply_to.extra["message_id"]),
                    "fail_if_not_exists": False,
                }
        files = self._files(post) if index == 0 and post.media else None
        kind = Kind.PUBLISHING_WRITE if self._webhook is not None else Kind.KEYED_WRITE
        response = self._send_message(payload, files, kind)
        return self._published(self.http.parse(response, Message, kind), kind)

    def _payload(self, post: RenderedPost, index: int, text: str) -> MessageBody:
        payload: MessageBody = {
            "content": text,
            "allowed_mentions": {"parse": _allowed_mentions(post) or []},
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
        payload: MessageBody,
        files: list[tuple[str, tuple[str, bytes, str]]] | None,
        kind: Kind,
    ) -> requests.Response:
        body: RequestOptions = (
            {"files": files, "data": {"payload_json": json.dumps(payload)}}
            if files
            else {"json": payload}
        )
        if self._webhook is not None:
            hook_id, token = self._webhook
            body["params"] = {"wait": "true"}
            path, route, major = f"/webhooks/{hook_id}/{token}", "POST /webhooks", hook_id
        else:
            # The nonce with enforce_nonce makes a resend return the first message.
            major = self._channel()
            path, route = f"/channels/{major}/messages", "POST /channels/messages"
        return self._send("POST", path, route, major, kind=kind, **body)


def _allowed_mentions(post: RenderedPost) -> list[str] | None:
    """``options.allowed_mentions`` (none by default); None when it is not a list of kinds."""
    mentions = post.options.get("allowed_mentions", [])
    if not isinstance(mentions, list | tuple):
        return None
    kinds = [m for m in mentions if isinstance(m, str) and m in MENTION_KINDS]
    return kinds if len(kinds) == len(mentions) else None
