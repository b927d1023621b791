"""The bodies Discord's API is sent and the shapes of its answers."""

from __future__ import annotations

from typing import TypedDict

from pydantic import Field

from connectors.payload import Id, Items, Maybe, Payload

# --------------------------------------------------------------------------- requests


class _Mentions(TypedDict):
    parse: list[str]


class _Reply(TypedDict):
    message_id: str
    fail_if_not_exists: bool


class _Embed(TypedDict):
    title: str
    url: str | None


class _Text(TypedDict):
    text: str


class _Answer(TypedDict):
    poll_media: _Text


class _Poll(TypedDict):
    question: _Text
    answers: list[_Answer]
    duration: int
    allow_multiselect: bool


class _Attachment(TypedDict):
    id: int
    filename: str
    description: str


class MessageBody(TypedDict, total=False):
    """A message to create (``POST /channels/{id}/messages`` or a webhook)."""

    content: str
    allowed_mentions: _Mentions
    embeds: list[_Embed]
    poll: _Poll
    attachments: list[_Attachment]
    nonce: str
    enforce_nonce: bool
    message_reference: _Reply


# --------------------------------------------------------------------------- answers


class ErrorBody(Payload):
    """An error answer: ``message``, ``code``, field ``errors``; a 429's ``retry_after``."""

    message: Maybe[str]
    code: Maybe[int]
    #: Nested per field, with ``_errors`` lists at the leaves.
    errors: Maybe[dict[str, object]]
    retry_after: Maybe[int | float]
    every_route: Maybe[bool] = Field(alias="global")


class User(Payload):
    """A user object; ``GET /users/@me`` answers with the bot's."""

    id: Maybe[Id]
    bot: Maybe[bool]
    username: Maybe[str]


class _Reference(Payload):
    #: 0 a reply, 1 a forward.
    type: Maybe[int]
    message_id: Maybe[str]
    channel_id: Maybe[str]


class _Referenced(Payload):
    author: Maybe[User]


class _Emoji(Payload):
    name: Maybe[str]
    id: Maybe[Id]


class _Reaction(Payload):
    count: int
    emoji: Maybe[_Emoji]

    @property
    def label(self) -> str:
        """``name`` (``name:id`` for a custom emoji)."""
        emoji = self.emoji or _Emoji.empty()
        label = emoji.name or emoji.id or "?"
        return f"{label}:{emoji.id}" if emoji.id else label


class Message(Payload):
    """A message object, as far as the connector reads it."""

    id: Maybe[Id]
    channel_id: Maybe[str]
    guild_id: Maybe[str]
    timestamp: Maybe[str]
    nonce: Maybe[str | int]
    content: Maybe[str]
    author: Maybe[User]
    webhook_id: Maybe[str]
    #: 0 DEFAULT, 19 REPLY, the rest system messages.
    type: Maybe[int]
    mentions: Items[User]
    message_reference: Maybe[_Reference]
    referenced_message: Maybe[_Referenced]
    attachments: Items[object]
    reactions: Items[_Reaction]

    @property
    def author_id(self) -> str | None:
        """The author's user id."""
        return self.author.id if self.author else None

    @property
    def by_bot(self) -> bool:
        """Whether a bot wrote it."""
        return self.author is not None and self.author.bot is True


class Guild(Payload):
    """``GET /guilds/{id}?with_counts=true``."""

    approximate_member_count: Maybe[int]
