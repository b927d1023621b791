"""Telegram channels and groups through the Bot API.

API pages used:

- https://core.telegram.org/bots/api#making-requests (``ok``/``error_code``/``parameters``)
- https://core.telegram.org/bots/api#formatting-options (HTML style: escape ``&``, ``<``, ``>``)
- https://core.telegram.org/bots/api#sendmessage, #sendphoto, #sendmediagroup, #sendpoll
- https://core.telegram.org/bots/api#sending-files (multipart uploads, ``attach://<name>``)
- https://core.telegram.org/bots/api#replyparameters, #linkpreviewoptions
- https://core.telegram.org/bots/api#getupdates, #messagereactioncountupdated
- https://core.telegram.org/bots/api#message (``reply_to_message``, ``is_automatic_forward``,
  ``forward_origin``, ``message_thread_id``), #messageoriginchannel, #messageentity, #getme
- https://core.telegram.org/bots/features#privacy-mode
- https://core.telegram.org/bots/api#getchatmembercount, #getchat, #deletemessage

The bot token is part of every URL (``/bot<token>/<method>``), so it is
registered as a secret of the HTTP client and redacted from urllib3's request
log as well.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from typing import Any, ClassVar

import requests
from pydantic import ConfigDict, SecretStr, field_validator

from connectors.base import (
    AccountMetrics,
    Capability,
    ConnectorSettings,
    ConnectorState,
    Extra,
    InboxItem,
    InboxPage,
    Limits,
    MediaItem,
    Metrics,
    Poll,
    Published,
    Rejected,
    RenderedPost,
    ThreadPart,
)
from connectors.http import (
    HttpClient,
    HttpConnector,
    Kind,
    Outcome,
    Verdict,
    retry_after_seconds,
)
from crosspost.text import utf16_length

__all__ = ["TelegramConnector", "escape", "message_url"]

#: Statuses the connector maps itself, because Telegram explains them in the body.
#: Bounds of ``sendPoll`` (Bot API 9.1 raised options to 12, 9.6 open_period to 30 days).
POLL_QUESTION_MAX = 300
POLL_OPTIONS_MIN = 2
POLL_OPEN_PERIOD = (5, 2_628_000)
#: ``getUpdates`` returns at most 100 updates per call; stop after this many pages.
_UPDATE_PAGES = 10
_REACTIONS = "message_reaction_count"
#: Member messages are read only once the inbox is in use (see ``_allowed_updates``).
_MESSAGES = "message"
#: Queued inbox items kept at most; older ones are dropped with a warning.
_QUEUE_MAX = 5000
#: Discussion threads (forwarded post in the group → our post) remembered at most.
_THREADS_MAX = 1000
#: Inbox items returned per ``fetch_inbox`` page.
INBOX_PAGE = 200
_USERNAME_RE = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}")
_NUMERIC_RE = re.compile(r"-?[0-9]+")
#: How Telegram says the bot may not post there (403 in channels, 400 in groups).
_RIGHTS_RE = re.compile(
    r"not enough rights|need administrator rights|bot is not a member|bot was kicked", re.I
)
_TOKEN_RE = re.compile(r"[0-9]+:[A-Za-z0-9_-]{20,}")


class _RedactTokens(logging.Filter):
    """Masks bot tokens in urllib3's ``"POST /bot<token>/… HTTP/1.1" 200`` debug lines."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(token in message for token in self.tokens):
            for token in self.tokens:
                message = message.replace(token, "***")
            record.msg, record.args = message, None
        return True


_REDACTOR = _RedactTokens()
logging.getLogger("urllib3.connectionpool").addFilter(_REDACTOR)


class TelegramConnector(HttpConnector["TelegramConnector.Settings"]):
    """Publishes to one Telegram chat as a bot that is an admin there."""

    name: ClassVar[str] = "telegram"
    limits: ClassVar[Limits] = Limits(
        max_length=4096,
        unit="UTF-16 code units",
        max_media=10,
        max_media_bytes=10 * 1024 * 1024,
        media_types=frozenset({"image/jpeg", "image/png"}),
        alt_text_required=False,
        max_poll_options=12,
        max_poll_option_length=100,
        max_caption_length=1024,
    )
    capabilities: frozenset[Capability] = frozenset(
        {
            Capability.THREADS,
            Capability.POLLS,
            Capability.MEDIA,
            Capability.DELETE,
            Capability.INBOX,
        }
    )
    docs_url: ClassVar[str] = "https://core.telegram.org/bots/api"

    class Settings(ConnectorSettings):
        """The ``accounts:`` entry of a Telegram channel or group.

        Attributes:
            bot_token: from @BotFather, e.g. ``${TELEGRAM_BOT_TOKEN}``.
            chat_id: ``@channelusername`` or the numeric id (``-100…`` for channels).
            disable_notification: deliver silently.
            link_preview: show a preview of the first link of text posts.
            api_url: root of the Bot API server (a local ``telegram-bot-api`` works too).
            inbox: read comments, replies and mentions (``message`` updates); off keeps
                the bot to reaction counts and never stores member messages.
        """

        # Validation errors would otherwise echo the token they refused.
        model_config = ConfigDict(hide_input_in_errors=True)

        bot_token: SecretStr
        chat_id: str
        disable_notification: bool = False
        link_preview: bool = True
        api_url: str = "https://api.telegram.org"
        inbox: bool = True

        @field_validator("bot_token")
        @classmethod
        def _token_shape(cls, value: SecretStr) -> SecretStr:
            if not _TOKEN_RE.fullmatch(value.get_secret_value()):
                raise ValueError("expected a bot token like 123456:ABC-DEF… from @BotFather")
            return value

        @field_validator("chat_id", mode="before")
        @classmethod
        def _chat_id(cls, value: Any) -> Any:
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)  # YAML reads -100123 as a number
            if isinstance(value, str) and (
                _USERNAME_RE.fullmatch(value) or _NUMERIC_RE.fullmatch(value)
            ):
                return value
            raise ValueError(
                "expected @channelusername or a numeric chat id such as -1001234567890"
            )

        @field_validator("api_url")
        @classmethod
        def _api_url(cls, value: str) -> str:
            if not value.startswith(("https://", "http://")):
                raise ValueError("expected an http(s):// URL")
            return value.rstrip("/")

    def __init__(
        self,
        account: str,
        settings: ConnectorSettings,
        state: ConnectorState | None = None,
    ) -> None:
        self._webhook_warned = False
        self._bot: dict[str, Any] | None = None
        super().__init__(account, settings, state)

    @classmethod
    def capabilities_for(cls, settings: ConnectorSettings) -> frozenset[Capability]:
        """Without ``inbox: true`` the account reads no updates, so it has no inbox."""
        if isinstance(settings, TelegramConnector.Settings) and not settings.inbox:
            return cls.capabilities - {Capability.INBOX}
        return cls.capabilities

    def _make_client(self) -> HttpClient:
        token = self.settings.bot_token.get_secret_value()
        _REDACTOR.tokens.add(token)
        return HttpClient(
            self.name,
            self.account,
            base_url=f"{self.settings.api_url}/bot{token}",
            secrets=[token],
            classify=self.classify,
        )

    # -- counting -------------------------------------------------------------

    def measure(self, text: str) -> int:
        """Length in UTF-16 code units of the plain text (what entity offsets count).

        The text is sent HTML-escaped, so after entity parsing Telegram sees
        exactly ``text``; UTF-16 counts an astral character (most emoji) as 2,
        never less than code points or graphemes, so a text that fits here fits there.
        """
        return utf16_length(text)

    def _check_text(self, post: RenderedPost, limits: Limits) -> list[str]:
        """Every part against the text limit; the caption limit binds part 1 only."""
        problems = super()._check_text(replace(post, media=()), limits)
        if post.media:
            caption = self.measure(post.text)
            limit = limits.max_caption_length
            if caption > limit:
                problems.append(
                    f"caption is {caption} {self.limits.unit} long (at most {limit} with media)"
                )
        return problems

    def _check_poll(self, post: RenderedPost, limits: Limits) -> list[str]:
        return [] if post.poll is None else self._poll_problems(post, post.poll)

    def _poll_problems(self, post: RenderedPost, poll: Poll) -> list[str]:
        problems = []
        if post.media:
            problems.append("a Telegram poll cannot carry media")
        length = self.measure(post.text)
        if not 1 <= length <= POLL_QUESTION_MAX:
            problems.append(f"poll question is {length} long (1 to {POLL_QUESTION_MAX})")
        count, most = len(poll.options), self.limits.max_poll_options
        if not POLL_OPTIONS_MIN <= count <= most:
            problems.append(f"poll has {count} options ({POLL_OPTIONS_MIN} to {most})")
        longest = self.limits.max_poll_option_length
        for option in poll.options:
            if not 1 <= self.measure(option) <= longest:
                problems.append(f"poll option {option!r} must be 1 to {longest} long")
        return problems

    # -- publishing -----------------------------------------------------------

    def _publish_part(self, post: RenderedPost, part: ThreadPart) -> Published:
        """Send one post; the first carries the poll, photo or album."""
        index, text, reply_to = (part.index, part.text, part.reply_to)
        reply = _reply_parameters(reply_to)
        if index == 0 and post.poll is not None:
            return self._published(self._send_poll(text, post.poll, reply))
        if index == 0 and len(post.media) == 1:
            return self._published(self._send_photo(text, post.media[0], reply))
        if index == 0 and post.media:
            return self._send_album(text, post.media, reply)
        payload = {
            "chat_id": self.settings.chat_id,
            "text": escape(text),
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": not self.settings.link_preview},
            "disable_notification": self.settings.disable_notification,
            **({"reply_parameters": reply} if reply else {}),
        }
        return self._published(self._call("sendMessage", Kind.PUBLISHING_WRITE, json=payload))

    def _send_poll(self, question: str, poll: Poll, reply: dict[str, int] | None) -> Any:
        payload: dict[str, Any] = {
            "chat_id": self.settings.chat_id,
            "question": question,
            "options": [{"text": option} for option in poll.options],
            # Channels only take anonymous polls; groups accept them too.
            "is_anonymous": True,
            "allows_multiple_answers": poll.multiple,
            "disable_notification": self.settings.disable_notification,
        }
        seconds = int(poll.duration.total_seconds())
        if POLL_OPEN_PERIOD[0] <= seconds <= POLL_OPEN_PERIOD[1]:
            payload["open_period"] = seconds
        if reply:
            payload["reply_parameters"] = reply
        return self._call("sendPoll", Kind.PUBLISHING_WRITE, json=payload)

    def _form(self, reply: dict[str, int] | None) -> dict[str, str]:
        """Fields common to multipart sends; nested objects go JSON-serialised."""
        form = {
            "chat_id": self.settings.chat_id,
            "disable_notification": json.dumps(self.settings.disable_notification),
        }
        if reply:
            form["reply_parameters"] = json.dumps(reply)
        return form

    def _send_photo(self, caption: str, item: MediaItem, reply: dict[str, int] | None) -> Any:
        form = {**self._form(reply), "caption": escape(caption), "parse_mode": "HTML"}
        files = {"photo": self._upload(item)}
        return self._call("sendPhoto", Kind.PUBLISHING_WRITE, data=form, files=files)

    def _send_album(
        self, caption: str, media: Sequence[MediaItem], reply: dict[str, int] | None
    ) -> Published:
        items: list[dict[str, str]] = []
        files = {}
        for number, item in enumerate(media):
            items.append({"type": "photo", "media": f"attach://photo{number}"})
            files[f"photo{number}"] = self._upload(item)
        items[0].update(caption=escape(caption), parse_mode="HTML")
        form = {**self._form(reply), "media": json.dumps(items)}
        messages = self._call("sendMediaGroup", Kind.PUBLISHING_WRITE, data=form, files=files)
        if not isinstance(messages, list) or not messages:
            message = "sendMediaGroup answered without the messages it sent"
            raise self.http.unreadable(message, Kind.PUBLISHING_WRITE)
        first = self._published(messages[0])
        # The ids travel in Published.extra, which the store keeps with the
        # publication and gives back to ``delete``: no second store for them.
        ids = [self._published(message).extra["message_id"] for message in messages]
        return Published(
            remote_id=first.remote_id,
            url=first.url,
            published_at=first.published_at,
            extra={**first.extra, "album": tuple(ids)},
        )

    def _upload(self, item: MediaItem) -> tuple[str, bytes, str]:
        try:
            content = item.path.read_bytes()
        except OSError as exc:
            raise self.error(Rejected, f"{item.path.name}: cannot read ({exc.strerror})") from None
        return item.path.name, content, item.mime_type

    def _published(self, message: Any) -> Published:
        """A :class:`Published` from a Message object; an unreadable one is uncertain."""
        try:
            message_id = int(message["message_id"])
            chat = message["chat"]
            chat_id = int(chat["id"])
            published_at = datetime.fromtimestamp(int(message["date"]), UTC)
        except (KeyError, TypeError, ValueError):
            message = "Telegram answered without a readable message"
            raise self.http.unreadable(message, Kind.PUBLISHING_WRITE) from None
        username = chat.get("username") if isinstance(chat, dict) else None
        return Published(
            remote_id=f"{chat_id}:{message_id}",
            url=message_url(chat_id, message_id, username),
            published_at=published_at,
            extra={"chat_id": chat_id, "message_id": message_id},
        )

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
            return [_REACTIONS, _MESSAGES]
        return [_REACTIONS]

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

    # -- deleting -------------------------------------------------------------

    def delete(self, remote_id: str, extra: Extra | None = None) -> None:
        """Delete a post (every photo of an album) with ``deleteMessage(s)``.

        Raises:
            Rejected: unknown id, or Telegram refused (bots may only delete
                messages less than 48 hours old).
            AuthError, RateLimited, Transient, Unknown: as for publishing.
        """
        chat_id, message_id = self._split_id(remote_id)
        album = list((extra or {}).get("album") or [])
        # Albums sent before the store kept ``extra`` were noted in the state file.
        album = album or self.state.load().get("albums", {}).get(remote_id)
        try:
            if album:
                payload = {"chat_id": chat_id, "message_ids": album}
                self._call("deleteMessages", Kind.HARMLESS_WRITE, json=payload)
            else:
                self._call(
                    "deleteMessage",
                    Kind.HARMLESS_WRITE,
                    json={"chat_id": chat_id, "message_id": message_id},
                )
        except Rejected as error:
            raise self.error(
                Rejected,
                f"Telegram refused to delete {remote_id} (bots can delete only messages "
                f"less than 48 hours old): {error.reason}",
                error.status,
            ) from None

    def _split_id(self, remote_id: str) -> tuple[int, int]:
        chat, _, message = remote_id.rpartition(":")
        try:
            return int(chat), int(message)
        except ValueError:
            raise self.error(Rejected, f"not a Telegram post id: {remote_id!r}") from None

    # -- the Bot API envelope -------------------------------------------------

    def _call(self, api_method: str, kind: Kind, **kwargs: Any) -> Any:
        """Call ``api_method`` and return its ``result``; reads are GETs, the rest POSTs."""
        method = "GET" if kind is Kind.READ else "POST"
        response = self.http.request(method, api_method, kind=kind, **kwargs)
        body = self.http.json_object(response, kind)
        if body.get("ok") is not True or "result" not in body:
            raise self.http.unreadable(f"{api_method} answered without ok/result", kind)
        return body["result"]

    def classify(self, response: requests.Response) -> Verdict | None:
        """The Bot API envelope: ``ok:false``, ``error_code``, ``description``, ``parameters``."""
        body = _json_or_empty(response)
        if response.ok and body.get("ok") is not False:
            return None
        code = body.get("error_code") if isinstance(body.get("error_code"), int) else None
        code = code or response.status_code
        reason = str(body.get("description") or response.reason or f"error {code}")
        found = body.get("parameters")
        parameters: dict[str, Any] = found if isinstance(found, dict) else {}
        if code == 429 or "retry_after" in parameters:
            seconds = retry_after_seconds(parameters.get("retry_after"))
            return Verdict(Outcome.RATE_LIMITED, f"rate limited: {reason}", 429, seconds)
        return self._refusal(code, reason, parameters)

    def _refusal(self, code: int, reason: str, parameters: Mapping[str, Any]) -> Verdict:
        if "migrate_to_chat_id" in parameters:
            new = parameters["migrate_to_chat_id"]
            message = f"{reason}; the group is now a supergroup: set chat_id to {new}"
            return Verdict(Outcome.REJECTED, message, code)
        if code in (401, 404):
            return Verdict(Outcome.AUTH, f"the bot token was refused ({reason})", code)
        if code == 403 or _RIGHTS_RE.search(reason):
            return Verdict(Outcome.AUTH, _not_admin(reason, self.settings.chat_id), code)
        if code == 409 and "webhook" not in reason.lower():
            # "terminated by other getUpdates request": another reader polls this bot.
            message = f"another program reads this bot's updates: {reason}"
            return Verdict(Outcome.PLATFORM_FAILED, message, code)
        if 400 <= code < 500:
            return Verdict(Outcome.REJECTED, reason, code)
        return Verdict(Outcome.PLATFORM_FAILED, f"platform error: {reason}", code)


# --------------------------------------------------------------------------- helpers


def escape(text: str) -> str:
    """``text`` for ``parse_mode=HTML``: only ``&``, ``<`` and ``>`` need entities."""
    return html.escape(text, quote=False)


def message_url(chat_id: int, message_id: int, username: str | None) -> str | None:
    """The t.me link of a message: public by username, private by ``/c/<id>``."""
    if username:
        return f"https://t.me/{username}/{message_id}"
    text = str(chat_id)
    if text.startswith("-100"):
        return f"https://t.me/c/{text[4:]}/{message_id}"
    return None  # basic groups and private chats have no message links


def _reply_parameters(reply_to: Published | None) -> dict[str, int] | None:
    if reply_to is None:
        return None
    return {"message_id": int(reply_to.extra["message_id"])}


def _not_admin(reason: str, chat_id: str) -> str:
    return (
        f"{reason}. Add the bot to {chat_id} as an administrator with the "
        f"can_post_messages right (Post Messages)"
    )


def _json_or_empty(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _inbox_on(state: dict[str, Any]) -> None:
    state["inbox_on"] = True


def _drop_queued(state: dict[str, Any], after: int) -> None:
    """Forget queued member messages up to ``after``: the store has them."""
    queued = [e for e in state.get("inbox_queue", []) if isinstance(e, dict)]
    state["inbox_queue"] = [e for e in queued if int(e.get("seq", 0)) > after]


def _fold_updates(state: dict[str, Any], updates: Sequence[Any]) -> None:
    """Advance the update offset and keep the newest reaction counts per message."""
    reactions: dict[str, Any] = state.setdefault("reactions", {})
    offset = int(state.get("update_offset", 0))
    for update in updates:
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            continue
        offset = max(offset, update["update_id"] + 1)
        counted = _read_counts(update.get(_REACTIONS))
        if counted is None:
            continue
        remote_id, snapshot = counted
        if snapshot["date"] >= int(reactions.get(remote_id, {}).get("date", 0)):
            reactions[remote_id] = snapshot
    state["update_offset"] = offset


def _read_counts(counted: Any) -> tuple[str, dict[str, Any]] | None:
    """``(remote_id, {total, by_type, date})`` from a MessageReactionCountUpdated."""
    try:
        remote_id = f"{int(counted['chat']['id'])}:{int(counted['message_id'])}"
        by_type = {
            _reaction_key(item["type"]): int(item["total_count"]) for item in counted["reactions"]
        }
        date = int(counted.get("date", 0))
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return remote_id, {"total": sum(by_type.values()), "by_type": by_type, "date": date}


def _reaction_key(reaction: Mapping[str, Any]) -> str:
    kind = reaction.get("type")
    if kind == "emoji":
        return str(reaction.get("emoji"))
    if kind == "custom_emoji":
        return f"custom:{reaction.get('custom_emoji_id')}"
    return str(kind)


def _sequence(cursor: str | None) -> int:
    """The queue number a cursor names; 0 for none or an unreadable one."""
    try:
        return max(int(cursor or 0), 0)
    except ValueError:
        return 0


def _channel_post(message: Mapping[str, Any]) -> tuple[dict[str, Any], int] | None:
    """``(channel chat, message id)`` a forwarded channel post came from, if known."""
    origin = message.get("forward_origin")
    if isinstance(origin, dict) and origin.get("type") == "channel":
        chat, message_id = origin.get("chat"), origin.get("message_id")
    else:  # before Bot API 7.0
        chat, message_id = message.get("forward_from_chat"), message.get("forward_from_message_id")
    if isinstance(chat, dict) and isinstance(message_id, int) and "id" in chat:
        return chat, message_id
    return None


def _author(message: Mapping[str, Any]) -> tuple[str, str | None]:
    """``(@username or first name, id)`` of a message's sender (a user or a chat)."""
    sender = message.get("from")
    if isinstance(message.get("sender_chat"), dict):
        sender = message["sender_chat"]
    if not isinstance(sender, dict):
        return "", None
    username = sender.get("username")
    name = (
        f"@{username}" if username else str(sender.get("first_name") or sender.get("title") or "")
    )
    return name, str(sender["id"]) if "id" in sender else None


def _utf16_slice(text: str, offset: Any, length: Any) -> str:
    """The part of ``text`` an entity's UTF-16 ``offset``/``length`` covers."""
    if not isinstance(offset, int) or not isinstance(length, int):
        return ""
    units = text.encode("utf-16-le")
    return units[offset * 2 : (offset + length) * 2].decode("utf-16-le", errors="ignore")


def _item_to_state(item: InboxItem) -> dict[str, Any]:
    return {
        "remote_id": item.remote_id,
        "kind": item.kind,
        "author": item.author,
        "author_id": item.author_id,
        "text": item.text,
        "url": item.url,
        "created_at": item.created_at.isoformat(),
        "in_reply_to": item.in_reply_to,
        "raw": dict(item.raw),
    }


def _item_from_state(entry: Mapping[str, Any]) -> InboxItem | None:
    """The queued item of ``entry``; None when the state file holds something else."""
    try:
        saved = entry["item"]
        return InboxItem(
            remote_id=str(saved["remote_id"]),
            kind=str(saved["kind"]),
            author=str(saved["author"]),
            author_id=saved.get("author_id"),
            text=str(saved.get("text") or ""),
            url=saved.get("url"),
            created_at=datetime.fromisoformat(saved["created_at"]),
            in_reply_to=saved.get("in_reply_to"),
            raw=dict(saved.get("raw") or {}),
        )
    except (KeyError, TypeError, ValueError):
        return None
