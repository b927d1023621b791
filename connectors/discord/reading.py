"""Reading a Discord channel back: messages, counts, the inbox."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from connectors.base import (
    AccountMetrics,
    Extra,
    InboxItem,
    InboxPage,
    Metrics,
    Published,
    Rejected,
)
from connectors.discord.api import DiscordApi, _error_code
from connectors.discord.constants import (
    _FORWARD,
    _MEMBER_TYPES,
    _SNOWFLAKE_RE,
    _UNKNOWN_MESSAGE,
    DISCORD_EPOCH_MS,
    INBOX_PAGE,
    INBOX_PAGES,
    WEB,
    nonce_for,
)
from connectors.http import (
    Kind,
)


class DiscordReading(DiscordApi):
    """The reads of :class:`DiscordConnector`."""

    _bot_id: str | None = None

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
