"""Reading a Telegram chat back: reactions, member messages, the member count."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

from connectors.base import (
    AccountMetrics,
    InboxItem,
    InboxPage,
    Metrics,
    Rejected,
)
from connectors.http import (
    Kind,
)
from connectors.telegram.api import TelegramApi
from connectors.telegram.updates import (
    _QUEUE_MAX,
    REACTIONS,
    _author,
    _channel_post,
    _drop_queued,
    _fold_updates,
    _inbox_on,
    _item_from_state,
    _item_to_state,
    _sequence,
    _utf16_slice,
)

#: ``getUpdates`` returns at most 100 updates per call; stop after this many pages.
_UPDATE_PAGES = 10
#: Member messages are read only once the inbox is in use (see ``_allowed_updates``).
_MESSAGES = "message"
#: Discussion threads (forwarded post in the group → our post) remembered at most.
_THREADS_MAX = 1000
#: Inbox items returned per ``fetch_inbox`` page.
INBOX_PAGE = 200


class TelegramReading(TelegramApi):
    """The update reader and the other reads of :class:`TelegramConnector`."""

    _webhook_warned = False
    _bot: dict[str, Any] | None = None

    # -- reading --------------------------------------------------------------

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        """Reaction totals as ``likes`` for the posts Telegram has reported reactions on.

        The Bot API cannot read a message back, so counts come from the
        ``message_reaction_count`` updates collected by ``getUpdates`` and kept
        in the connector state. Posts no update mentioned yet are left out.
        """
        if not self._read_updates():
            return {}
        known = self.state.load().get("reactions", {})
        return {
            remote_id: Metrics(likes=int(known[remote_id]["total"]), raw=known[remote_id])
            for remote_id in remote_ids
            if remote_id in known
        }

    def fetch_inbox(self, cursor: str | None) -> InboxPage:
        """Comments, replies and mentions queued by the update reader, after ``cursor``.

        The Bot API keeps no history a bot can read: member messages arrive only as
        ``message`` updates, read by the same ``getUpdates`` loop as the reaction
        counts and queued in the connector state. ``cursor`` is the queue number of
        the last item the caller stored: items up to it leave the queue, the next
        :data:`INBOX_PAGE` after it are returned.

        Raises:
            Rejected: the account has ``inbox: false``.
            AuthError, RateLimited, Transient.
        """
        if not self.settings.inbox:
            raise self.unable("inbox")
        self._enable_inbox()
        self._read_updates()  # a webhook (False) still lets the queue be served
        state = self.state.load()
        after = _sequence(cursor)
        if after > int(state.get("inbox_seq", 0)):
            after = 0  # the state file was reset: offer the queue again, the store dedupes
        queued = [e for e in state.get("inbox_queue", []) if isinstance(e, dict)]
        pending = [e for e in queued if int(e.get("seq", 0)) > after]
        if len(pending) != len(queued):
            self.state.update(partial(_drop_queued, after=after))
        page = pending[:INBOX_PAGE]
        items = tuple(item for item in map(_item_from_state, page) if item is not None)
        return InboxPage(items, str(page[-1]["seq"]) if page else cursor)

    def _enable_inbox(self) -> None:
        """From the first inbox read on, the update reader asks for member messages too."""
        if not self.state.load().get("inbox_on"):
            self.state.update(_inbox_on)

    def _allowed_updates(self, state: Mapping[str, Any]) -> list[str]:
        # Messages are asked for only once the inbox is read, so an account whose
        # inbox nobody reads never keeps member messages in its state file.
        if self.settings.inbox and state.get("inbox_on"):
            return [REACTIONS, _MESSAGES]
        return [REACTIONS]

    def _read_updates(self) -> bool:
        """Read pending updates once for both uses: reaction counts and member messages.

        One reader owns the update offset, so reactions and messages never
        confirm (and so drop) each other's updates.

        Returns:
            False when a webhook owns the bot's updates (nothing was read).
        """
        state = self.state.load()
        allowed = json.dumps(self._allowed_updates(state))
        for _page in range(_UPDATE_PAGES):
            params = {
                "offset": int(state.get("update_offset", 0)),
                "limit": 100,
                "timeout": 0,
                "allowed_updates": allowed,
            }
            updates = self._get_updates(params)
            if updates is None:
                return False
            # Folded into the state as saved NOW, under its lock: whatever another
            # thread wrote while the page was read is kept.
            state = self.state.update(partial(self._take_updates, updates=updates))
            if len(updates) < 100:
                break
        return True

    def _get_updates(self, params: Mapping[str, Any]) -> list[Any] | None:
        """One ``getUpdates`` page; None when a webhook is set (409, warned once)."""
        try:
            updates = self._call("getUpdates", Kind.READ, params=params)
        except Rejected as error:
            if error.status != 409:
                raise
            self._warn_webhook()
            return None
        if not isinstance(updates, list):
            raise self.http.unreadable("getUpdates answered without a list of updates", Kind.READ)
        return updates

    def _warn_webhook(self) -> None:
        if not self._webhook_warned:
            self._webhook_warned = True
            self.log.warning(
                "reactions and member messages unavailable: the bot has a webhook, so "
                "getUpdates is refused (use a bot without a webhook)"
            )

    # -- member messages (inbox) ------------------------------------------------

    def _take_updates(self, state: dict[str, Any], updates: Sequence[Any]) -> None:
        _fold_updates(state, updates)
        self._queue_messages(state, updates)

    def _queue_messages(self, state: dict[str, Any], updates: Sequence[Any]) -> None:
        """Queue every ``message`` update that is a comment, reply or mention for us."""
        for update in updates:
            message = update.get(_MESSAGES) if isinstance(update, dict) else None
            if not isinstance(message, dict):
                continue
            item = self._member_item(state, message)
            if item is not None:
                self._enqueue(state, item)

    def _enqueue(self, state: dict[str, Any], item: InboxItem) -> None:
        seq = int(state.get("inbox_seq", 0)) + 1
        state["inbox_seq"] = seq
        queue: list[Any] = state.setdefault("inbox_queue", [])
        queue.append({"seq": seq, "item": _item_to_state(item)})
        if len(queue) > _QUEUE_MAX:
            del queue[: len(queue) - _QUEUE_MAX]
            self.log.warning("inbox queue full: the oldest member messages were dropped")

    def _member_item(self, state: dict[str, Any], message: Mapping[str, Any]) -> InboxItem | None:
        """An :class:`InboxItem` for a member's message about us, else None."""
        try:
            chat = message["chat"]
            chat_id, message_id = int(chat["id"]), int(message["message_id"])
            created = datetime.fromtimestamp(int(message["date"]), UTC)
        except (KeyError, TypeError, ValueError):
            return None
        if message.get("is_automatic_forward"):
            self._learn_thread(state, chat_id, message_id, message)
            return None
        sender = message.get("from")
        if isinstance(sender, dict) and sender.get("is_bot"):
            return None
        if self._is_ours(message.get("sender_chat")):
            return None  # written by the admins as the channel or group itself
        found = self._kind(state, chat, message)
        if found is None:
            return None
        author, author_id = _author(message)
        username = chat.get("username")
        return InboxItem(
            remote_id=f"{chat_id}:{message_id}",
            kind=found[0],
            author=author,
            author_id=author_id,
            text=str(message.get("text") or message.get("caption") or ""),
            url=f"https://t.me/{username}/{message_id}" if username else None,
            created_at=created,
            in_reply_to=found[1],
            raw={
                "chat_id": chat_id,
                "message_id": message_id,
                "message_thread_id": message.get("message_thread_id"),
            },
        )

    def _kind(
        self, state: dict[str, Any], chat: Mapping[str, Any], message: Mapping[str, Any]
    ) -> tuple[str, str | None] | None:
        """``(kind, in_reply_to)`` for a comment, reply or mention; None for other chatter."""
        chat_id = int(chat["id"])
        found = message.get("reply_to_message")
        reply: Mapping[str, Any] = found if isinstance(found, dict) else {}
        origin = _channel_post(reply) if reply.get("is_automatic_forward") else None
        if origin is not None and self._is_ours(origin[0]):
            parent = f"{int(origin[0]['id'])}:{origin[1]}"
            self._remember_thread(state, chat_id, int(reply["message_id"]), parent)
            return "comment", parent
        thread = message.get("message_thread_id")
        in_thread = state.get("threads", {}).get(f"{chat_id}:{thread}") if thread else None
        if isinstance(in_thread, str):
            return "comment", in_thread  # an answer to a comment, in our post's thread
        if not (self._is_ours(chat) or chat_id in state.get("linked_groups", [])):
            return None
        if reply and self._is_ours(chat) and self._by_bot(reply):
            return "reply", f"{chat_id}:{int(reply['message_id'])}"
        if self._mentions_bot(message):
            return "mention", None
        return None

    def _learn_thread(
        self, state: dict[str, Any], chat_id: int, message_id: int, message: Mapping[str, Any]
    ) -> None:
        """Remember where one of our channel posts landed in its discussion group."""
        origin = _channel_post(message)
        if origin is not None and self._is_ours(origin[0]):
            parent = f"{int(origin[0]['id'])}:{origin[1]}"
            self._remember_thread(state, chat_id, message_id, parent)

    @staticmethod
    def _remember_thread(state: dict[str, Any], chat_id: int, message_id: int, parent: str) -> None:
        threads: dict[str, str] = state.setdefault("threads", {})
        threads[f"{chat_id}:{message_id}"] = parent
        while len(threads) > _THREADS_MAX:
            del threads[next(iter(threads))]
        groups: list[int] = state.setdefault("linked_groups", [])
        if chat_id not in groups:
            groups.append(chat_id)

    def _is_ours(self, chat: Any) -> bool:
        """Whether ``chat`` is the account's chat (by ``@username`` or numeric id)."""
        if not isinstance(chat, dict):
            return False
        wanted = self.settings.chat_id
        if wanted.startswith("@"):
            return str(chat.get("username") or "").lower() == wanted[1:].lower()
        return str(chat.get("id")) == wanted

    def _by_bot(self, message: Mapping[str, Any]) -> bool:
        sender = message.get("from")
        if not isinstance(sender, dict) or not sender.get("is_bot"):
            return False
        return bool(sender.get("id") == self._identity()["id"])

    def _mentions_bot(self, message: Mapping[str, Any]) -> bool:
        """Whether a ``mention`` or ``text_mention`` entity names this bot."""
        text = str(message.get("text") or message.get("caption") or "")
        found = message.get("entities") or message.get("caption_entities") or []
        entities = [e for e in found if isinstance(e, dict)]
        if not any(e.get("type") in ("mention", "text_mention") for e in entities):
            return False
        me = self._identity()
        for entity in entities:
            user = entity.get("user")
            if entity.get("type") == "text_mention" and isinstance(user, dict):
                if user.get("id") == me["id"]:
                    return True
            elif entity.get("type") == "mention":
                named = _utf16_slice(text, entity.get("offset"), entity.get("length"))
                if named.lower() == f"@{me['username']}".lower():
                    return True
        return False

    def _identity(self) -> dict[str, Any]:
        """The bot's ``id`` and ``username`` (``getMe``), asked once per connector."""
        if self._bot is None:
            me = self._call("getMe", Kind.READ)
            if not isinstance(me, dict) or not isinstance(me.get("id"), int):
                raise self.http.unreadable("getMe answered without the bot's id", Kind.READ)
            self._bot = {"id": me["id"], "username": str(me.get("username") or "")}
        return self._bot

    def account_metrics(self) -> AccountMetrics:
        """Members of the chat; for a channel they are its followers too."""
        params = {"chat_id": self.settings.chat_id}
        count = self._call("getChatMemberCount", Kind.READ, params=params)
        chat = self._call("getChat", Kind.READ, params=params)
        if not isinstance(count, int) or not isinstance(chat, dict):
            raise self.http.unreadable("Telegram answered without a member count", Kind.READ)
        channel = chat.get("type") == "channel"
        return AccountMetrics(
            members=count,
            followers=count if channel else None,
            raw={"member_count": count, "type": chat.get("type")},
        )
