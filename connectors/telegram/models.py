"""The Bot API objects the connector reads, as https://core.telegram.org/bots/api shapes them.

Only the fields the connector uses are declared; the rest are ignored. A nested
object that does not have its documented shape is read as absent
(:data:`Lenient`), so one odd message never makes a whole page of updates
unreadable: the page is confirmed, and what could be read of it is kept.
"""

from __future__ import annotations

from typing import Annotated, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    TypeAdapter,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)

__all__ = [
    "BOT",
    "CHAT",
    "COUNT",
    "DONE",
    "MESSAGE",
    "MESSAGES",
    "UPDATES",
    "Chat",
    "Envelope",
    "Lenient",
    "Message",
    "MessageEntity",
    "MessageOrigin",
    "MessageReactionCountUpdated",
    "ReactionCount",
    "ReactionType",
    "ResponseParameters",
    "Update",
    "User",
]

_T = TypeVar("_T")


def _or_none(value: object, handler: ValidatorFunctionWrapHandler) -> object:
    try:
        return handler(value)
    except ValidationError:
        return None


#: ``T``, or None when the value is missing or not shaped like ``T``.
Lenient = Annotated[_T | None, WrapValidator(_or_none)]


class _Object(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class User(_Object):
    """https://core.telegram.org/bots/api#user (also what ``getMe`` returns)."""

    id: int
    is_bot: bool = False
    first_name: str = ""
    username: str | None = None


class Chat(_Object):
    """https://core.telegram.org/bots/api#chat (``getChat`` returns a ChatFullInfo)."""

    id: int
    type: str = ""
    title: str | None = None
    username: str | None = None


class MessageEntity(_Object):
    """https://core.telegram.org/bots/api#messageentity; offsets in UTF-16 code units."""

    type: str
    offset: int
    length: int
    user: Lenient[User] = None


class MessageOrigin(_Object):
    """https://core.telegram.org/bots/api#messageorigin: ``chat``/``message_id`` for channels."""

    type: str
    chat: Lenient[Chat] = None
    message_id: int | None = None


class Message(_Object):
    """https://core.telegram.org/bots/api#message."""

    message_id: int
    date: int
    chat: Chat
    message_thread_id: int | None = None
    sender: Lenient[User] = Field(default=None, alias="from")
    sender_chat: Lenient[Chat] = None
    forward_origin: Lenient[MessageOrigin] = None
    #: Before Bot API 7.0 (local servers may be older).
    forward_from_chat: Lenient[Chat] = None
    forward_from_message_id: int | None = None
    is_automatic_forward: bool = False
    reply_to_message: Lenient[Message] = None
    text: str | None = None
    entities: tuple[MessageEntity, ...] = ()
    caption: str | None = None
    caption_entities: tuple[MessageEntity, ...] = ()

    @property
    def body(self) -> str:
        """The text, or a photo's caption."""
        return self.text or self.caption or ""

    @property
    def body_entities(self) -> tuple[MessageEntity, ...]:
        """The entities of :attr:`body`."""
        return self.entities or self.caption_entities


class ReactionType(_Object):
    """https://core.telegram.org/bots/api#reactiontype: ``emoji``, ``custom_emoji`` or ``paid``."""

    type: str
    emoji: str | None = None
    custom_emoji_id: str | None = None

    @property
    def key(self) -> str:
        """How the reaction is named in ``raw["by_type"]``."""
        if self.type == "emoji":
            return str(self.emoji)
        if self.type == "custom_emoji":
            return f"custom:{self.custom_emoji_id}"
        return self.type


class ReactionCount(_Object):
    """https://core.telegram.org/bots/api#reactioncount."""

    type: ReactionType
    total_count: int


class MessageReactionCountUpdated(_Object):
    """https://core.telegram.org/bots/api#messagereactioncountupdated (anonymous reactions)."""

    chat: Chat
    message_id: int
    date: int
    reactions: tuple[ReactionCount, ...] = ()


class Update(_Object):
    """https://core.telegram.org/bots/api#update, the two kinds the connector asks for."""

    update_id: int
    message: Lenient[Message] = None
    message_reaction_count: Lenient[MessageReactionCountUpdated] = None


class ResponseParameters(_Object):
    """https://core.telegram.org/bots/api#responseparameters."""

    migrate_to_chat_id: int | None = None
    retry_after: Lenient[float] = None


class Envelope(_Object):
    """https://core.telegram.org/bots/api#making-requests: every answer, success or not."""

    ok: Lenient[bool] = None
    error_code: Lenient[int] = None
    description: Lenient[str] = None
    parameters: Lenient[ResponseParameters] = None
    result: JsonValue = None


#: What each method the connector calls returns, as ``result``.
UPDATES: TypeAdapter[list[Lenient[Update]]] = TypeAdapter(list[Lenient[Update]])
MESSAGE: TypeAdapter[Message] = TypeAdapter(Message)
MESSAGES: TypeAdapter[list[Message]] = TypeAdapter(list[Message])
BOT: TypeAdapter[User] = TypeAdapter(User)
CHAT: TypeAdapter[Chat] = TypeAdapter(Chat)
COUNT: TypeAdapter[int] = TypeAdapter(int)
#: ``True`` (``deleteMessage``, ``deleteMessages``).
DONE: TypeAdapter[bool] = TypeAdapter(bool)
