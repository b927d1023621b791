"""Slack mrkdwn, error codes and the bodies of its requests."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TypedDict

from connectors.base import Rejected
from connectors.payload import JSONObject

#: Longest mrkdwn text of one section block (Block Kit reference).
SECTION_TEXT_MAX = 3000
#: Errors that mean the token cannot do this; a person must fix the app or token.
_AUTH_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "missing_scope",
        "no_permission",
        "not_allowed_token_type",
        "ekm_access_denied",
        "team_access_not_granted",
    }
)
#: Errors after which Slack says "some aspect of the operation may have succeeded".
_UNCERTAIN_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
#: Errors that mean the message (or channel) is not there: a metric id to leave out.
_GONE_ERRORS = frozenset({"message_not_found", "channel_not_found", "file_not_found"})
#: What a user can do about the most common refusals.
_HINTS = {
    "not_in_channel": "invite the app to the channel first (/invite @your-app)",
    "channel_not_found": "check the channel ID, and that the app can see the channel",
    "is_archived": "the channel is archived",
    "msg_too_long": "the message is too long for Slack",
    "invalid_blocks": "Slack refused the message layout",
}


class MessageBody(TypedDict, total=False):
    """What ``chat.postMessage`` is sent."""

    channel: str
    text: str
    #: Block Kit blocks (section and context blocks of mrkdwn).
    blocks: list[JSONObject]
    thread_ts: str
    unfurl_links: bool
    username: str
    icon_emoji: str


class SharedFile(TypedDict):
    """One file of ``files.completeUploadExternal``."""

    id: str
    title: str


class CompleteBody(TypedDict, total=False):
    """What ``files.completeUploadExternal`` is sent."""

    files: list[SharedFile]
    channel_id: str
    initial_comment: str
    thread_ts: str


_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_FILE_PREFIX = "file:"


def escape(text: str) -> str:
    """``text`` with Slack's three control characters turned into HTML entities."""
    return text.translate(_ESCAPES)


def _link(url: str, title: str) -> str:
    """A mrkdwn ``<url|title>`` link; ``|`` and ``>`` in the URL would end it early."""
    safe_url = url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C")
    return f"<{safe_url}|{escape(title)}>" if title else f"<{safe_url}>"


#: mrkdwn's bracketed controls: ``<url|text>``, ``<@U123>``, ``<#C123>``, ``<!here>``.
#: Escaping leaves no other ``<`` or ``>`` in the text, so each pair is one control.
_CONTROL = re.compile(r"<[^<>]*>")


def _controls(text: str) -> list[tuple[int, int]]:
    """Where ``text`` has a bracketed control, as ranges a cut must not fall into."""
    return [match.span() for match in _CONTROL.finditer(text)]


def _ts_time(ts: str) -> datetime:
    """The moment a message ``ts`` (epoch seconds with a counter) stands for."""
    try:
        return datetime.fromtimestamp(float(ts), UTC)
    except (TypeError, ValueError, OverflowError):
        return datetime.now(UTC)


def _split_id(remote_id: str) -> tuple[str, str]:
    """``"C123:1503435956.000247"`` → channel and ts (or ``file:F…``)."""
    channel, sep, rest = remote_id.partition(":")
    if not sep or not channel or not rest or not re.fullmatch(r"[\w.:]+", rest):
        raise Rejected(f"not a Slack message id: {remote_id!r}", platform="slack")
    return channel, rest
