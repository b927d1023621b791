"""Slack mrkdwn, error codes and the shapes of its answers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.base import (
    Metrics,
    Rejected,
)

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
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_FILE_PREFIX = "file:"


def escape(text: str) -> str:
    """``text`` with Slack's three control characters turned into HTML entities."""
    return text.translate(_ESCAPES)


def _link(url: str, title: str) -> str:
    """A mrkdwn ``<url|title>`` link; ``|`` and ``>`` in the URL would end it early."""
    safe_url = url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C")
    return f"<{safe_url}|{escape(title)}>" if title else f"<{safe_url}>"


def _ts_time(ts: str) -> datetime:
    """The moment a message ``ts`` (epoch seconds with a counter) stands for."""
    try:
        return datetime.fromtimestamp(float(ts), UTC)
    except (TypeError, ValueError, OverflowError):
        return datetime.now(UTC)


def _share_ts(file: Mapping[str, Any], channel: str) -> str | None:
    """The ts of the message that shared ``file`` in ``channel``, if Slack says yet."""
    shares = file.get("shares")
    if not isinstance(shares, dict):
        return None
    for visibility in ("public", "private"):
        places = shares.get(visibility)
        entries = places.get(channel) if isinstance(places, dict) else None
        if isinstance(entries, list) and entries and isinstance(entries[0], dict):
            ts = entries[0].get("ts")
            if isinstance(ts, str) and ts:
                return ts
    return None


def _split_id(remote_id: str) -> tuple[str, str]:
    """``"C123:1503435956.000247"`` → channel and ts (or ``file:F…``)."""
    channel, sep, rest = remote_id.partition(":")
    if not sep or not channel or not rest or not re.fullmatch(r"[\w.:]+", rest):
        raise Rejected(f"not a Slack message id: {remote_id!r}", platform="slack")
    return channel, rest


def _metrics(answer: Mapping[str, Any]) -> Metrics:
    """Sum of reaction counts as ``likes``; ``reply_count`` when Slack includes it."""
    message = answer.get("message")
    message = message if isinstance(message, dict) else {}
    reactions = message.get("reactions")
    counts = [
        r.get("count", 0)
        for r in (reactions if isinstance(reactions, list) else [])
        if isinstance(r, dict) and isinstance(r.get("count", 0), int)
    ]
    replies = message.get("reply_count")
    return Metrics(
        likes=sum(counts),
        replies=replies if isinstance(replies, int) else None,
        raw={
            "reactions": {
                r.get("name"): r.get("count") for r in reactions or [] if isinstance(r, dict)
            }
        },
    )
