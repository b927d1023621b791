"""Which member messages are about us: comments on our posts, replies to the bot, mentions.

A channel post's comments live in its linked discussion group, as a thread under
the automatic forward of the post. A direct comment replies to that forward, so
it names our post itself; an answer to a comment only names its thread. So the
reader remembers where each of our posts landed (:class:`Threads`), and the
store keeps it with the post's publication (``extra["discussion"]``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import JsonValue, TypeAdapter, ValidationError

from connectors.base import InboxItem
from connectors.telegram.models import Chat, Message, User

__all__ = ["DISCUSSION", "Members", "Threads", "channel_post", "utf16_slice"]

#: The key of ``publication.extra`` that holds where a post landed in discussion groups.
DISCUSSION = "discussion"
_LINKS: TypeAdapter[dict[str, str]] = TypeAdapter(dict[str, str])


@dataclass
class Threads:
    """Discussion threads of our posts: ``"<group id>:<thread id>"`` → our post's remote id."""

    known: dict[str, str] = field(default_factory=dict)
    #: Learned during this read, to be written to the store.
    learned: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, stored: Mapping[str, JsonValue], unsaved: Mapping[str, str]) -> Threads:
        """The threads kept with publications (``extras``) and those not stored yet."""
        known: dict[str, str] = {}
        for value in stored.values():
            try:
                known.update(_LINKS.validate_python(value))
            except ValidationError:
                continue  # written by something else: not a thread map
        return cls({**known, **unsaved}, dict(unsaved))

    def parent(self, chat_id: int, thread: int | None) -> str | None:
        """Our post whose thread ``thread`` is in group ``chat_id``, if known."""
        return self.known.get(f"{chat_id}:{thread}") if thread is not None else None

    def learn(self, chat_id: int, message_id: int, parent: str) -> None:
        """Remember that our post ``parent`` landed as ``message_id`` in group ``chat_id``."""
        link = f"{chat_id}:{message_id}"
        if self.known.get(link) != parent:
            self.known[link] = self.learned[link] = parent

    @property
    def groups(self) -> set[int]:
        """The discussion groups where our posts were seen."""
        return {int(link.rsplit(":", 1)[0]) for link in self.known}


@dataclass
class Members:
    """Turns member messages into inbox items for the account's chat ``chat_id``."""

    chat_id: str
    #: The bot itself (``getMe``), asked only when a message needs it.
    bot: Callable[[], User]
    threads: Threads

    def item(self, message: Message) -> InboxItem | None:
        """An :class:`InboxItem` for a member's message about us, else None."""
        if message.is_automatic_forward:
            self._learn_thread(message)
            return None
        if (message.sender and message.sender.is_bot) or self.is_ours(message.sender_chat):
            return None  # a bot, or the admins writing as the channel or group itself
        found = self._kind(message)
        if found is None:
            return None
        author, author_id = _author(message)
        chat, message_id = message.chat, message.message_id
        return InboxItem(
            remote_id=f"{chat.id}:{message_id}",
            kind=found[0],
            author=author,
            author_id=author_id,
            text=message.body,
            url=f"https://t.me/{chat.username}/{message_id}" if chat.username else None,
            created_at=datetime.fromtimestamp(message.date, UTC),
            in_reply_to=found[1],
            raw={
                "chat_id": chat.id,
                "message_id": message_id,
                "message_thread_id": message.message_thread_id,
            },
        )

    def is_ours(self, chat: Chat | None) -> bool:
        """Whether ``chat`` is the account's chat (by ``@username`` or numeric id)."""
        if chat is None:
            return False
        if self.chat_id.startswith("@"):
            return (chat.username or "").lower() == self.chat_id[1:].lower()
        return str(chat.id) == self.chat_id

    def _kind(self, message: Message) -> tuple[str, str | None] | None:
        """``(kind, in_reply_to)`` for a comment, reply or mention; None for other chatter."""
        chat_id = message.chat.id
        reply = message.reply_to_message
        if reply is not None and reply.is_automatic_forward:
            parent = self._our_post(reply)
            if parent is not None:
                self.threads.learn(chat_id, reply.message_id, parent)
                return "comment", parent
        in_thread = self.threads.parent(chat_id, message.message_thread_id)
        if in_thread is not None:
            return "comment", in_thread  # an answer to a comment, in our post's thread
        if not (self.is_ours(message.chat) or chat_id in self.threads.groups):
            return None
        if reply is not None and self.is_ours(message.chat) and self._by_bot(reply):
            return "reply", f"{chat_id}:{reply.message_id}"
        if self._mentions_bot(message):
            return "mention", None
        return None

    def _learn_thread(self, message: Message) -> None:
        """Remember where one of our channel posts landed in its discussion group."""
        parent = self._our_post(message)
        if parent is not None:
            self.threads.learn(message.chat.id, message.message_id, parent)

    def _our_post(self, forward: Message) -> str | None:
        origin = channel_post(forward)
        if origin is None or not self.is_ours(origin[0]):
            return None
        return f"{origin[0].id}:{origin[1]}"

    def _by_bot(self, message: Message) -> bool:
        sender = message.sender
        return sender is not None and sender.is_bot and sender.id == self.bot().id

    def _mentions_bot(self, message: Message) -> bool:
        """Whether a ``mention`` or ``text_mention`` entity names this bot."""
        entities = message.body_entities
        if not any(e.type in ("mention", "text_mention") for e in entities):
            return False
        me = self.bot()
        for entity in entities:
            if entity.type == "text_mention" and entity.user is not None:
                if entity.user.id == me.id:
                    return True
            elif entity.type == "mention":
                named = utf16_slice(message.body, entity.offset, entity.length)
                if named.lower() == f"@{me.username}".lower():
                    return True
        return False


def channel_post(message: Message) -> tuple[Chat, int] | None:
    """``(channel, message id)`` a forwarded channel post came from, if known."""
    origin = message.forward_origin
    if origin is not None and origin.type == "channel":
        chat, message_id = origin.chat, origin.message_id
    else:  # before Bot API 7.0
        chat, message_id = message.forward_from_chat, message.forward_from_message_id
    return (chat, message_id) if chat is not None and message_id is not None else None


def _author(message: Message) -> tuple[str, str | None]:
    """``(@username or name, id)`` of a message's sender (a chat, else a user)."""
    if message.sender_chat is not None:
        chat = message.sender_chat
        return (f"@{chat.username}" if chat.username else chat.title or ""), str(chat.id)
    if message.sender is not None:
        user = message.sender
        return (f"@{user.username}" if user.username else user.first_name), str(user.id)
    return "", None


def utf16_slice(text: str, offset: int, length: int) -> str:
    """The part of ``text`` an entity's UTF-16 ``offset``/``length`` covers."""
    units = text.encode("utf-16-le")
    return units[offset * 2 : (offset + length) * 2].decode("utf-16-le", errors="ignore")
