"""``diagnose()`` for Telegram: the bot, its rights in the chat, and whether it can read.

Read-only Bot API methods (https://core.telegram.org/bots/api):

- ``getMe``: the bot (a refused token is a 401) and its privacy mode;
- ``getChat``: the chat exists and the bot can see it;
- ``getChatMember`` of the bot: in a channel it must be an administrator with
  ``can_post_messages`` (and ``can_delete_messages`` for ``retract``); in a group a
  member that is not restricted from sending;
- ``getWebhookInfo``: a webhook takes the bot's updates, so reactions and member
  messages cannot be read with ``getUpdates``.

The Bot API sends no rate-limit headers (a 429 says when to come back).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, TypeAdapter

from connectors.diagnosis import Diagnosis
from connectors.http import Kind
from connectors.telegram.models import CHAT
from connectors.telegram.streaming import TelegramStreaming

__all__ = ["TelegramDoctor"]


class _Shape(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class _Bot(_Shape):
    """https://core.telegram.org/bots/api#getme (a User with the bot's own fields)."""

    id: int
    username: str | None = None
    can_read_all_group_messages: bool | None = None


class _Member(_Shape):
    """https://core.telegram.org/bots/api#chatmember (the fields crosspost needs)."""

    status: str
    can_post_messages: bool | None = None
    can_delete_messages: bool | None = None
    can_send_messages: bool | None = None


class _Webhook(_Shape):
    """https://core.telegram.org/bots/api#webhookinfo."""

    url: str = ""


_BOT, _MEMBER, _WEBHOOK = TypeAdapter(_Bot), TypeAdapter(_Member), TypeAdapter(_Webhook)
_NOT_IN = "the bot is not in the chat: add it (as an administrator for a channel)"


def _rights(member: _Member, chat_type: str) -> list[str]:
    """What the bot may not do in the chat that crosspost needs, one problem each."""
    if member.status in ("left", "kicked"):
        return [_NOT_IN]
    if chat_type == "channel":
        if member.status == "creator":
            return []
        if member.status != "administrator":
            return ["the bot is not an administrator of the channel: it cannot post there"]
        wanted = {
            "can_post_messages": (member.can_post_messages, "post (Post Messages)"),
            "can_delete_messages": (member.can_delete_messages, "retract posts (Delete Messages)"),
        }
        return [
            f"the bot lacks the {right} right, needed to {purpose}"
            for right, (granted, purpose) in wanted.items()
            if granted is not True
        ]
    if member.status == "restricted" and member.can_send_messages is False:
        return ["the bot is restricted from sending messages in the group"]
    return []


class TelegramDoctor(TelegramStreaming):
    """``diagnose`` of :class:`connectors.telegram.TelegramConnector`."""

    def diagnose(self) -> Diagnosis:
        """The bot, its rights in ``chat_id``, and what keeps it from reading updates.

        Raises:
            AuthError: the token is refused, or the chat does not let the bot in.
            RateLimited, Rejected, Transient.
        """
        me = self._call("getMe", Kind.READ, _BOT)
        chat = self._call("getChat", Kind.READ, CHAT, params={"chat_id": self.settings.chat_id})
        params: dict[str, str | int] = {"chat_id": self.settings.chat_id, "user_id": me.id}
        problems = _rights(
            self._call("getChatMember", Kind.READ, _MEMBER, params=params), chat.type
        )
        notes = ["Telegram sends no rate-limit headroom"]
        if self._call("getWebhookInfo", Kind.READ, _WEBHOOK).url:
            reading = (
                "member messages and reaction counts" if self.settings.inbox else "reaction counts"
            )
            message = (
                f"a webhook takes the bot's updates, so {reading} cannot be read (deleteWebhook)"
            )
            (problems if self.settings.inbox else notes).append(message)
        if me.can_read_all_group_messages is False:
            notes.append(
                "privacy mode is on: in groups the bot reads only replies to it and mentions"
            )
        title = chat.title or chat.username
        return Diagnosis(
            identity=f"@{me.username}" if me.username else f"bot {me.id}",
            problems=tuple(problems),
            notes=tuple(notes),
            details={"chat": f"{title} ({chat.type})" if title else self.settings.chat_id},
        )
