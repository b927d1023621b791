"""The shapes of Slack's Web API answers, as the connector reads them."""

from __future__ import annotations

from connectors.base import Metrics
from connectors.payload import Fitting, Items, Maybe, Payload


class Answer(Payload):
    """Every Web API answer: ``ok``, and the ``error`` code when it is false."""

    ok: Maybe[bool]
    error: Maybe[str]
    #: The scope a ``missing_scope`` error asks for.
    needed: Maybe[str]


class Message(Payload):
    """A message as ``chat.postMessage`` and ``conversations.history`` give it."""

    ts: Maybe[str]
    channel: Maybe[str]
    text: Maybe[str]


class Posted(Answer, Message):
    """``chat.postMessage``: the new message's ``ts`` and ``channel``."""


class History(Answer):
    """``conversations.history``: the latest messages, newest first."""

    messages: Items[Message]


class Permalink(Answer):
    """``chat.getPermalink``."""

    permalink: Maybe[str]


class UploadUrl(Answer):
    """``files.getUploadURLExternal``: where to send the bytes, and the new file's id."""

    upload_url: Maybe[str]
    file_id: Maybe[str]


class _Share(Payload):
    ts: Maybe[str]


class _Shares(Payload):
    public: Maybe[dict[str, Fitting[_Share]]]
    private: Maybe[dict[str, Fitting[_Share]]]


class File(Payload):
    """A file object: where it was shared, and its permalink."""

    shares: Maybe[_Shares]
    permalink: Maybe[str]

    def share_ts(self, channel: str) -> str | None:
        """The ts of the message that shared this file in ``channel``, if Slack says yet."""
        if self.shares is None:
            return None
        for places in (self.shares.public, self.shares.private):
            entries = (places or {}).get(channel)
            if entries and entries[0].ts:
                return entries[0].ts
        return None


class Completed(Answer):
    """``files.completeUploadExternal``: the files it shared."""

    files: Items[File]


class FileInfo(Answer):
    """``files.info``."""

    file: Maybe[File]


class _Reaction(Payload):
    name: Maybe[str]
    count: Maybe[int]


class _Reacted(Payload):
    reactions: Items[_Reaction]
    reply_count: Maybe[int]


class Reactions(Answer):
    """``reactions.get``: the message with its reactions."""

    message: Maybe[_Reacted]

    def metrics(self) -> Metrics:
        """Sum of reaction counts as ``likes``; ``reply_count`` when Slack includes it."""
        message = self.message or _Reacted.empty()
        return Metrics(
            likes=sum(r.count or 0 for r in message.reactions),
            replies=message.reply_count,
            raw={"reactions": {r.name: r.count for r in message.reactions}},
        )


class _Channel(Payload):
    name: Maybe[str]
    num_members: Maybe[int]


class ChannelInfo(Answer):
    """``conversations.info``."""

    channel: Maybe[_Channel]
