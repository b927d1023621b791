"""Reading a Discord channel back: messages, counts, the inbox."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from connectors.base import Extra
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
from connectors.discord.shapes import Guild, Message, User
from connectors.errors import Rejected
from connectors.http import Kind
from connectors.payload import read_model
from connectors.results import AccountMetrics, InboxItem, InboxPage, Metrics, Published


class DiscordReading(DiscordApi):
    """The reads of :class:`DiscordConnector`."""

    _bot_id: str | None = None

    def _published(self, message: Message, kind: Kind) -> Published:
        """The ``Published`` for a message object; a message without ids is unreadable."""
        message_id = message.id
        channel_id = message.channel_id or self.settings.channel_id
        if message_id is None or channel_id is None:
            raise self.http.unreadable("Discord's answer has no message id", kind)
        guild = message.guild_id or self.settings.guild_id or "@me"
        return Published(
            remote_id=f"{channel_id}:{message_id}",
            url=f"{WEB}/{guild}/{channel_id}/{message_id}",
            published_at=_timestamp(message.timestamp),
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

    def _get_message(self, remote_id: str) -> Message | None:
        ids = _split_remote_id(remote_id)
        if ids is None:
            return None
        path, route, major = self._message_route(*ids)
        response = self._send("GET", path, f"GET {route}", major, kind=Kind.READ, ok=(404,))
        if response.status_code == 404:
            return None
        return self.http.parse(response, Message, Kind.READ)

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
        return AccountMetrics(
            members=self.http.read(body, Guild, Kind.READ).approximate_member_count,
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
        nonce, wanted = nonce_for(idempotency_key), text.strip()
        for message in self._channel_messages({"limit": "50"}):
            if _matches(message, nonce, wanted):
                return self._published(message, Kind.READ)
        return None

    def _channel_messages(self, params: Mapping[str, str]) -> list[Message]:
        """``GET /channels/{id}/messages``: the messages that are objects, newest first."""
        channel = self._channel()
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
        return [message for item in body if (message := read_model(Message, item)) is not None]

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
        messages: list[tuple[str, Message]] = []
        newest = cursor
        for _page in range(INBOX_PAGES if cursor else 1):
            page = self._messages_after(newest)
            messages += page
            if page:
                newest = max((message_id for message_id, _ in page), key=int)
            if len(page) < INBOX_PAGE:
                break
        messages.sort(key=lambda pair: int(pair[0]))
        ours = {message_id for message_id, m in messages if m.author_id == bot_id}
        items = [self._inbox_item(message_id, m, bot_id, ours) for message_id, m in messages]
        return InboxPage(tuple(item for item in items if item is not None), newest)

    def _own_id(self) -> str:
        """The bot's user id (``GET /users/@me``), asked once per connector."""
        if self._bot_id is None:
            response = self._send("GET", "/users/@me", "GET /users/@me", "@me", kind=Kind.READ)
            user_id = self.http.parse(response, User, Kind.READ).id
            if user_id is None or not _SNOWFLAKE_RE.match(user_id):
                message = "Discord's /users/@me answer has no user id"
                raise self.http.unreadable(message, Kind.READ)
            self._bot_id = user_id
        return self._bot_id

    def _messages_after(self, after: str | None) -> list[tuple[str, Message]]:
        """The channel's messages after ``after``, each with its id."""
        params = {"limit": str(INBOX_PAGE), **({"after": after} if after else {})}
        return [
            (m.id, m)
            for m in self._channel_messages(params)
            if m.id is not None and _SNOWFLAKE_RE.match(m.id)
        ]

    def _inbox_item(
        self, message_id: str, message: Message, bot_id: str, ours: set[str]
    ) -> InboxItem | None:
        """An :class:`InboxItem` for a member's message; None for bots, webhooks and system."""
        author = message.author
        if author is None or author.bot is True or message.webhook_id:
            return None
        kind = message.type or 0
        if message.author_id in (bot_id, None) or kind not in _MEMBER_TYPES:
            return None
        parent = _reply_target(message, bot_id, ours)
        mentioned = any(user.id == bot_id for user in message.mentions)
        channel = message.channel_id or self._channel()
        guild = message.guild_id or self.settings.guild_id or "@me"
        return InboxItem(
            remote_id=f"{channel}:{message_id}",
            kind="reply" if parent else "mention" if mentioned else "comment",
            author=author.username or "",
            author_id=message.author_id,
            text=message.content or "",
            url=f"{WEB}/{guild}/{channel}/{message_id}",
            created_at=_timestamp(message.timestamp, message_id),
            in_reply_to=parent,
            raw={
                "message_id": message_id,
                "channel_id": channel,
                "type": kind,
                "attachments": len(message.attachments),
            },
        )


def _split_remote_id(remote_id: str) -> tuple[str, str] | None:
    channel, _, message = remote_id.partition(":")
    if _SNOWFLAKE_RE.match(channel) and _SNOWFLAKE_RE.match(message):
        return channel, message
    return None


def _timestamp(value: str | None, snowflake: str | None = None) -> datetime:
    """An ISO 8601 ``timestamp``; else the time inside ``snowflake``; else now."""
    if value is not None:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if snowflake is not None and _SNOWFLAKE_RE.match(snowflake):
        return datetime.fromtimestamp(((int(snowflake) >> 22) + DISCORD_EPOCH_MS) / 1000, UTC)
    return datetime.now(UTC)


def _reply_target(message: Message, bot_id: str, ours: set[str]) -> str | None:
    """``"<channel>:<message>"`` of the bot's message this one replies to, else None.

    The referenced message's author says whether it is ours; when Discord did not
    include it (deleted, or not fetched), a bot message of the same page counts too.
    """
    reference = message.message_reference
    if reference is None or (reference.type or 0) == _FORWARD:
        return None
    target = reference.message_id
    if target is None:
        return None
    referenced = message.referenced_message
    by_us = target in ours or (
        referenced is not None and referenced.author is not None and referenced.author.id == bot_id
    )
    if not by_us:
        return None
    return f"{reference.channel_id or message.channel_id}:{target}"


def _metrics(message: Message) -> Metrics:
    """``likes`` = every reaction of every emoji; ``raw`` keeps the count per emoji."""
    per_emoji: dict[str, int] = {}
    for reaction in message.reactions:
        per_emoji[reaction.label] = per_emoji.get(reaction.label, 0) + reaction.count
    return Metrics(likes=sum(per_emoji.values()), raw={"reactions": per_emoji})


def _matches(message: Message, nonce: str, text: str) -> bool:
    if message.nonce == nonce:
        return True
    return message.by_bot and bool(text) and message.content == text
