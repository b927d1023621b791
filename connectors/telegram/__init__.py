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
registered as a secret of the HTTP client and with ``crosspost.logs``, which
masks it in every log line (urllib3's request and retry lines too).
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import ClassVar

from pydantic import JsonValue, TypeAdapter, ValidationError

from connectors.base import (
    Capability,
    ConnectorSettings,
    Extra,
    InboxItem,
    Limits,
    MediaItem,
    Poll,
    Published,
    Rejected,
    RenderedPost,
    ThreadPart,
)
from connectors.http import (
    Kind,
)
from connectors.telegram.api import Payload, Upload
from connectors.telegram.doctor import TelegramDoctor
from connectors.telegram.models import DONE, MESSAGE, MESSAGES, Message
from connectors.telegram.settings import TelegramSettings
from crosspost.rendering.markdown_forms import INLINE_HTML_TAGS, TextFormat
from crosspost.rendering.markup import visible_text
from crosspost.rendering.text import utf16_length

__all__ = ["TelegramConnector", "TelegramSettings", "escape", "message_url"]

#: Bounds of ``sendPoll`` (Bot API 9.1 raised options to 12, 9.6 open_period to 30 days).
POLL_QUESTION_MAX = 300
POLL_OPTIONS_MIN = 2
POLL_OPEN_PERIOD = (5, 2_628_000)


class TelegramConnector(TelegramDoctor):
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
            Capability.REPLY,
        }
    )
    docs_url: ClassVar[str] = "https://core.telegram.org/bots/api"
    #: Posts are sent with ``parse_mode=HTML``, in the tags Telegram's HTML style knows.
    text_format: ClassVar[TextFormat] = TextFormat.HTML
    html_tags: ClassVar[frozenset[str]] = INLINE_HTML_TAGS

    Settings = TelegramSettings

    @classmethod
    def capabilities_for(cls, settings: ConnectorSettings) -> frozenset[Capability]:
        """Without ``inbox: true`` the account reads no updates, so it has no inbox;
        with ``inbox_stream: true`` the daemon waits on its updates."""
        if not isinstance(settings, TelegramConnector.Settings):
            return cls.capabilities
        if not settings.inbox:
            return cls.capabilities - {Capability.INBOX}
        if settings.inbox_stream:
            return cls.capabilities | {Capability.INBOX_STREAM}
        return cls.capabilities

    # -- counting -------------------------------------------------------------

    def measure(self, text: str) -> int:
        """Length in UTF-16 code units of ``text`` (HTML) after entity parsing.

        Telegram counts its limits on the text a reader sees, tags gone and
        ``&amp;`` one character, in UTF-16 code units (what entity offsets
        count): an astral character (most emoji) is 2.
        """
        return utf16_length(visible_text(text))

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
        index, text, reply = part.index, part.text, _reply_parameters(part.reply_to)
        if index == 0 and post.poll is not None:
            return self._published(self._send_poll(text, post.poll, reply))
        if index == 0 and len(post.media) == 1:
            return self._published(self._send_photo(text, post.media[0], reply))
        if index == 0 and post.media:
            return self._send_album(text, post.media, reply)
        payload: Payload = {
            "chat_id": self.settings.chat_id,
            "text": text,
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": not self.settings.link_preview},
            "disable_notification": self.settings.disable_notification,
            **({"reply_parameters": reply} if reply else {}),
        }
        sent = self._call("sendMessage", Kind.PUBLISHING_WRITE, MESSAGE, json=payload)
        return self._published(sent)

    def _send_poll(self, question: str, poll: Poll, reply: dict[str, JsonValue] | None) -> Message:
        payload: dict[str, JsonValue] = {
            "chat_id": self.settings.chat_id,
            "question": visible_text(question),
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
        return self._call("sendPoll", Kind.PUBLISHING_WRITE, MESSAGE, json=payload)

    def _form(self, reply: dict[str, JsonValue] | None) -> dict[str, str]:
        """Fields common to multipart sends; nested objects go JSON-serialised."""
        form = {
            "chat_id": self.settings.chat_id,
            "disable_notification": json.dumps(self.settings.disable_notification),
        }
        if reply:
            form["reply_parameters"] = json.dumps(reply)
        return form

    def _send_photo(
        self, caption: str, item: MediaItem, reply: dict[str, JsonValue] | None
    ) -> Message:
        form = {**self._form(reply), "caption": caption, "parse_mode": "HTML"}
        files = {"photo": self._upload(item)}
        return self._call("sendPhoto", Kind.PUBLISHING_WRITE, MESSAGE, data=form, files=files)

    def _send_album(
        self, caption: str, media: Sequence[MediaItem], reply: dict[str, JsonValue] | None
    ) -> Published:
        items: list[dict[str, str]] = []
        files = {}
        for number, item in enumerate(media):
            items.append({"type": "photo", "media": f"attach://photo{number}"})
            files[f"photo{number}"] = self._upload(item)
        items[0].update(caption=caption, parse_mode="HTML")
        form = {**self._form(reply), "media": json.dumps(items)}
        messages = self._call(
            "sendMediaGroup", Kind.PUBLISHING_WRITE, MESSAGES, data=form, files=files
        )
        if not messages:
            message = "sendMediaGroup answered without the messages it sent"
            raise self.http.unreadable(message, Kind.PUBLISHING_WRITE)
        first = self._published(messages[0])
        # The ids travel in Published.extra, which the store keeps with the
        # publication and gives back to ``delete``: no second store for them.
        return replace(first, extra={**first.extra, "album": tuple(m.message_id for m in messages)})

    def _upload(self, item: MediaItem) -> Upload:
        try:
            content = item.path.read_bytes()
        except OSError as exc:
            raise self.error(Rejected, f"{item.path.name}: cannot read ({exc.strerror})") from None
        return item.path.name, content, item.mime_type

    def _published(self, message: Message) -> Published:
        """A :class:`Published` from a sent Message object."""
        chat_id, message_id = message.chat.id, message.message_id
        return Published(
            remote_id=f"{chat_id}:{message_id}",
            url=message_url(chat_id, message_id, message.chat.username),
            published_at=datetime.fromtimestamp(message.date, UTC),
            extra={"chat_id": chat_id, "message_id": message_id},
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
        album = _album((extra or {}).get("album"))
        # Albums sent before the store kept ``extra`` were noted in the state file,
        # until the first read of updates moves them to the store.
        album = album or _album(self.state.load().get("albums"), remote_id)
        payload: Payload = {"chat_id": chat_id, "message_id": message_id}
        if album:
            payload = {"chat_id": chat_id, "message_ids": list[JsonValue](album)}
        try:
            method = "deleteMessages" if album else "deleteMessage"
            self._call(method, Kind.HARMLESS_WRITE, DONE, json=payload)
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

    # -- answering members ----------------------------------------------------

    def reply_post(self, item: InboxItem, post: RenderedPost) -> RenderedPost:
        """The post as written: a reply notifies the member it answers."""
        return post

    def reply(self, item: InboxItem, post: RenderedPost, idempotency_key: str) -> Published:
        """``sendMessage`` in the member's chat with ``reply_parameters`` naming their message.

        The member wrote in the chat the item came from (a channel's discussion group,
        say), so the answer goes there, not to ``chat_id``. A message that is gone is
        refused by Telegram rather than answered loose.

        Raises:
            Rejected: the message is gone, or the answer breaks a limit.
            AuthError, RateLimited, Transient, Unknown.
        """
        problems = self.check(post)
        chat, message = item.raw.get("chat_id"), item.raw.get("message_id")
        if not isinstance(chat, int) or not isinstance(message, int):
            chat, message = self._split_id(item.remote_id)
        if problems or len(post.parts) != 1:
            raise self.error(Rejected, "; ".join(problems) or "a reply is one post")
        payload: Payload = {
            "chat_id": chat,
            "text": post.text,
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": not self.settings.link_preview},
            "reply_parameters": {"message_id": message},
        }
        sent = self._call("sendMessage", Kind.PUBLISHING_WRITE, MESSAGE, json=payload)
        answer = self._published(sent)
        return replace(answer, thread_ids=(answer.remote_id,))


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


def _reply_parameters(reply_to: Published | None) -> dict[str, JsonValue] | None:
    if reply_to is None:
        return None
    return {"message_id": int(reply_to.extra["message_id"])}


_IDS: TypeAdapter[list[int]] = TypeAdapter(list[int])
_ALBUMS: TypeAdapter[dict[str, list[int]]] = TypeAdapter(dict[str, list[int]])


def _album(value: object, remote_id: str | None = None) -> list[int]:
    """The message ids of an album: ``extra["album"]``, or the state file's ``albums``."""
    try:
        if remote_id is None:
            return _IDS.validate_python(value or [])
        return _ALBUMS.validate_python(value or {}).get(remote_id, [])
    except ValidationError:
        return []
