"""Slack: post to one channel with a bot token through the Web API.

API pages used:

- https://docs.slack.dev/reference/methods/chat.postMessage
- https://docs.slack.dev/reference/methods/chat.getPermalink
- https://docs.slack.dev/reference/methods/chat.delete
- https://docs.slack.dev/reference/methods/files.getUploadURLExternal
- https://docs.slack.dev/reference/methods/files.completeUploadExternal
- https://docs.slack.dev/reference/methods/files.info
- https://docs.slack.dev/reference/methods/reactions.get
- https://docs.slack.dev/reference/methods/conversations.info
- https://docs.slack.dev/reference/methods/conversations.history
- https://docs.slack.dev/reference/block-kit/blocks/section-block
- https://docs.slack.dev/messaging/formatting-message-text (escaping ``&``, ``<``, ``>``)
- https://docs.slack.dev/apis/web-api/rate-limits

Slack answers most failures with HTTP 200 and ``{"ok": false, "error": "…"}``,
so every call goes through :meth:`SlackConnector._call`, which turns the
``error`` code into one of the errors of :mod:`connectors.base`. Slack takes no
idempotency key: an uncertain publish is ``Unknown`` and is reconciled with
``conversations.history`` (see ``docs/connectors/slack.md``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import ClassVar, TypeVar, Unpack
from urllib.parse import urlsplit

import requests

from connectors.attachments import MediaItem
from connectors.base import STANDARD_CAPABILITIES, Capability, Extra, Limits, RenderedPost
from connectors.errors import ConnectorError, Rejected, Transient
from connectors.http import HttpClient, Kind, Outcome, RequestOptions, Verdict
from connectors.payload import JSONObject, read_model
from connectors.results import AccountMetrics, Metrics, Published, ThreadPart
from connectors.slack.answers import (
    Answer,
    ChannelInfo,
    Completed,
    File,
    FileInfo,
    History,
    Permalink,
    Posted,
    Reactions,
    UploadUrl,
)
from connectors.slack.doctor import SlackDoctor
from connectors.slack.settings import SlackSettings
from connectors.slack.web import (
    _AUTH_ERRORS,
    _FILE_PREFIX,
    _GONE_ERRORS,
    _HINTS,
    _UNCERTAIN_ERRORS,
    SECTION_TEXT_MAX,
    CompleteBody,
    MessageBody,
    SharedFile,
    _controls,
    _link,
    _split_id,
    _ts_time,
    escape,
)
from crosspost.rendering.humanize import counted
from crosspost.rendering.markdown_forms import TextFormat
from crosspost.rendering.text import split_text

__all__ = ["SlackConnector", "SlackSettings", "escape"]

_A = TypeVar("_A", bound=Answer)


class SlackConnector(SlackDoctor):
    """Publishes to one Slack channel as a bot; threads, files, reactions, members."""

    name: ClassVar[str] = "slack"
    base_url: ClassVar[str] = "https://slack.com/api"
    docs_url: ClassVar[str] = "https://docs.slack.dev/reference/methods/chat.postMessage"
    #: Texts arrive as mrkdwn, already escaped.
    text_format: ClassVar[TextFormat] = TextFormat.SLACK
    limits: ClassVar[Limits] = Limits(
        # chat.postMessage asks for at most 4,000 characters in `text` and cuts
        # above 40,000; 4,000 also keeps a part within two section blocks.
        max_length=4000,
        unit="characters",
        max_media=10,
        max_media_bytes=1_000_000_000,
        alt_text_max=1000,
    )
    capabilities: frozenset[Capability] = STANDARD_CAPABILITIES

    Settings = SlackSettings

    # -- set-up ------------------------------------------------------------------

    def _make_client(self) -> HttpClient:
        return self._bearer_client(self.settings.bot_token.get_secret_value())

    def measure(self, text: str) -> int:
        """Characters (code points) of ``text``, the mrkdwn that is sent.

        The text comes rendered as mrkdwn, ``&``, ``<`` and ``>`` already escaped
        (an entity counts as the characters it is written with), so its length
        is what Slack receives.
        """
        return len(text)

    # -- the Web API -------------------------------------------------------------

    def _call(
        self, method: str, answer: type[_A], kind: Kind, **options: Unpack[RequestOptions]
    ) -> _A:
        """Call one Web API method (reads as GET, the rest as POST) and read its answer."""
        http_method = "GET" if kind is Kind.READ else "POST"
        response = self.http.request(http_method, method, kind=kind, **options)
        return self.http.read(self.http.json_object(response, kind), answer, kind, method)

    def _post(self, method: str, body: object, answer: type[_A], kind: Kind) -> _A:
        """POST ``body`` as UTF-8 JSON (Slack warns ``missing_charset`` otherwise)."""
        return self._call(
            method,
            answer,
            kind,
            data=json.dumps(body).encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8"},
        )

    def classify(self, response: requests.Response) -> Verdict | None:
        """Slack's envelope: HTTP 200 with ``{"ok": false, "error": code}``."""
        try:
            body = read_model(Answer, response.json())
        except ValueError:
            return None
        if body is None or body.ok is not False:
            return None
        method = urlsplit(response.url or "").path.rpartition("/")[2]
        code = body.error or "unknown_error"
        status = response.status_code
        if code in _AUTH_ERRORS:
            needed = body.needed
            detail = f"{code}; the token lacks the scope {needed}" if needed else code
            return Verdict(Outcome.AUTH, f"{method}: {detail}", status)
        if code == "ratelimited":
            return Verdict(Outcome.RATE_LIMITED, f"{method}: ratelimited", status)
        if code in _UNCERTAIN_ERRORS:
            message = f"{method}: Slack failed ({code}); it may have acted"
            return Verdict(Outcome.PLATFORM_FAILED, message)
        hint = _HINTS.get(code)
        return Verdict(Outcome.REJECTED, f"{method}: {code}" + (f" ({hint})" if hint else ""))

    # -- publishing --------------------------------------------------------------

    def _publish_part(self, post: RenderedPost, part: ThreadPart) -> Published:
        """Post one message; replies go under the FIRST message (Slack has one level)."""
        index, text, root = (part.index, part.text, part.root)
        thread_ts = self._thread_ts(root, post, index) if root is not None else None
        if index == 0 and post.media:
            return self._publish_files(post.media, text, thread_ts)
        body = self._message(post, index, text, thread_ts)
        answer = self._post("chat.postMessage", body, Posted, Kind.PUBLISHING_WRITE)
        channel = answer.channel or self.settings.channel
        return self._published(answer.ts, channel, Kind.PUBLISHING_WRITE)

    def _thread_ts(self, root: Published, post: RenderedPost, index: int) -> str:
        ts = root.extra.get("ts")
        if isinstance(ts, str) and ts:
            return ts
        left = len(post.parts) - index
        raise self.error(
            Rejected,
            f"the first message went out with files but Slack did not tell its ts yet, "
            f"so the {counted(left, 'remaining part')} were not sent as replies",
        )

    def _message(
        self, post: RenderedPost, index: int, text: str, thread_ts: str | None
    ) -> MessageBody:
        """The chat.postMessage body: the mrkdwn as fallback ``text`` plus section blocks."""
        settings = self.settings
        body: MessageBody = {"channel": settings.channel, "text": text}
        blocks = self._blocks(text)
        if blocks is not None:
            if index == 0 and post.link and escape(post.link) not in text:
                link = _link(post.link, post.title)
                blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": link}]})
            body["blocks"] = blocks
        if thread_ts:
            body["thread_ts"] = thread_ts
        if settings.unfurl_links is not None:
            body["unfurl_links"] = settings.unfurl_links
        if settings.username:
            body["username"] = settings.username
        if settings.icon_emoji:
            body["icon_emoji"] = settings.icon_emoji
        return body

    def _blocks(self, text: str) -> list[JSONObject] | None:
        """Section blocks of at most 3,000 escaped characters, cut at word boundaries.

        A ``<url|text>`` link (or ``<@U123>`` mention) is never cut: half of one in
        each block would show as two pieces of broken markup.

        ``None`` (send the text alone) when one unbreakable piece, such as a
        very long URL, is longer than a section block can hold.
        """
        blocks: list[JSONObject] = []
        for segment in split_text(text, SECTION_TEXT_MAX, self.measure, _controls(text)):
            piece = segment.strip()
            if not piece:
                continue
            if self.measure(piece) > SECTION_TEXT_MAX:
                return None
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": piece}})
        return blocks or None

    def _published(self, ts: str | None, channel: str, kind: Kind) -> Published:
        """The :class:`Published` of the message ``ts`` in ``channel``."""
        if not ts:
            raise self.http.unreadable("Slack answered without the message's ts", kind)
        return Published(
            remote_id=f"{channel}:{ts}",
            url=self._permalink(channel, ts),
            published_at=_ts_time(ts),
            extra={"channel": channel, "ts": ts},
        )

    def _permalink(self, channel: str, ts: str) -> str | None:
        """The message's permalink, or ``None``: the post exists either way."""
        try:
            params = {"channel": channel, "message_ts": ts}
            answer = self._call("chat.getPermalink", Permalink, Kind.READ, params=params)
        except ConnectorError as error:
            self.log.warning("no permalink for %s:%s: %s", channel, ts, error)
            return None
        return answer.permalink or None

    # -- files -------------------------------------------------------------------

    def _publish_files(
        self, media: Sequence[MediaItem], text: str, thread_ts: str | None
    ) -> Published:
        """Upload every file, then share them in one message whose text is ``text``."""
        files = [SharedFile(id=self._upload(item), title=item.path.name) for item in media]
        body: CompleteBody = {
            "files": files,
            "channel_id": self.settings.channel,
            "initial_comment": text,
        }
        if thread_ts:
            body["thread_ts"] = thread_ts
        kind = Kind.PUBLISHING_WRITE
        answer = self._post("files.completeUploadExternal", body, Completed, kind)
        return self._published_files(answer, files[0]["id"])

    def _upload(self, item: MediaItem) -> str:
        """Steps 1 and 2 of an external upload; returns the new file's id."""
        try:
            content = item.path.read_bytes()
        except OSError as error:
            raise self.error(Rejected, f"{item.path.name}: {error.strerror}") from None
        form: dict[str, str | int] = {"filename": item.path.name, "length": len(content)}
        if item.alt:
            form["alt_txt"] = item.alt
        # Nothing is shared before completeUploadExternal, so nothing can show.
        kind = Kind.HARMLESS_WRITE
        answer = self._call("files.getUploadURLExternal", UploadUrl, kind, data=form)
        upload_url, file_id = answer.upload_url, answer.file_id
        if upload_url is None or file_id is None:
            message = "files.getUploadURLExternal gave no upload_url/file_id"
            raise self.http.unreadable(message, Kind.HARMLESS_WRITE)
        host = urlsplit(upload_url).hostname or ""
        if urlsplit(upload_url).scheme != "https" or not (
            host == "slack.com" or host.endswith(".slack.com")
        ):
            # The session carries the bot token; never send it off Slack's domain.
            raise self.error(Transient, "Slack gave an upload URL outside slack.com")
        self.http.request(
            "POST",
            upload_url,
            kind=Kind.HARMLESS_WRITE,
            data=content,
            headers={"Content-Type": item.mime_type},
        )
        return file_id

    def _published_files(self, answer: Completed, file_id: str) -> Published:
        """The message that shares the files, or the file itself when its ts is unknown."""
        channel = self.settings.channel
        first = answer.files[0] if answer.files else File.empty()
        ts = first.share_ts(channel) or self._share_ts_from_info(file_id)
        if ts:
            return self._published(ts, channel, Kind.READ)
        return Published(
            remote_id=f"{channel}:{_FILE_PREFIX}{file_id}",
            url=first.permalink,
            published_at=datetime.now(UTC),
            extra={"channel": channel, "file_id": file_id},
        )

    def _share_ts_from_info(self, file_id: str) -> str | None:
        """Ask ``files.info`` once where the file was shared; Slack shares asynchronously."""
        try:
            answer = self._call("files.info", FileInfo, Kind.READ, params={"file": file_id})
        except ConnectorError as error:
            self.log.warning("files.info for %s failed: %s", file_id, error)
            return None
        return answer.file.share_ts(self.settings.channel) if answer.file else None

    # -- reading back ------------------------------------------------------------

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        """Reactions (as ``likes``) and thread replies of each message, one call each.

        Ids of messages that are gone, and file-only ids, are left out.
        """
        found: dict[str, Metrics] = {}
        for remote_id in remote_ids:
            channel, ts = _split_id(remote_id)
            if ts.startswith(_FILE_PREFIX):
                continue
            params = {"channel": channel, "timestamp": ts, "full": "true"}
            try:
                answer = self._call("reactions.get", Reactions, Kind.READ, params=params)
            except Rejected as error:
                self.log.info("no metrics for %s: %s", remote_id, error)
                continue
            found[remote_id] = answer.metrics()
        return found

    def account_metrics(self) -> AccountMetrics:
        """Members of the channel (``conversations.info``, needs ``channels:read``)."""
        params = {"channel": self.settings.channel, "include_num_members": "true"}
        channel = self._call("conversations.info", ChannelInfo, Kind.READ, params=params).channel
        if channel is None:
            raise self.http.unreadable("conversations.info gave no channel", Kind.READ)
        return AccountMetrics(
            members=channel.num_members,
            raw={"name": channel.name, "num_members": channel.num_members},
        )

    def delete(self, remote_id: str, extra: Extra | None = None) -> None:
        """Delete a message (``chat.delete``) or an unshared upload (``files.delete``).

        A message that is already gone counts as deleted.
        """
        channel, ts = _split_id(remote_id)
        try:
            if ts.startswith(_FILE_PREFIX):
                file_id = ts.removeprefix(_FILE_PREFIX)
                self._post("files.delete", {"file": file_id}, Answer, Kind.HARMLESS_WRITE)
            else:
                body = {"channel": channel, "ts": ts}
                self._post("chat.delete", body, Answer, Kind.HARMLESS_WRITE)
        except Rejected as error:
            if not any(code in error.reason for code in _GONE_ERRORS):
                raise
            self.log.info("%s was already gone", remote_id)

    def find_recent(self, idempotency_key: str, text: str) -> Published | None:
        """The latest of the channel's last 50 messages whose text is ``text``.

        Needs ``channels:history`` (``groups:history`` for a private channel).
        """
        channel = self.settings.channel
        params = {"channel": channel, "limit": "50"}
        history = self._call("conversations.history", History, Kind.READ, params=params)
        wanted = {escape(text.strip()), text.strip()}
        for message in history.messages:
            if (message.text or "").strip() in wanted:
                return self._published(message.ts, message.channel or channel, Kind.READ)
        return None
