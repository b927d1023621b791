"""Reading Mastodon entities (Status, Notification) into the connector's values."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connectors.base import (
    InboxItem,
)
from connectors.mastodon.counting import html_to_text


def parse_time(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("timestamp without a time zone")
    return parsed


def inbox_item(notification: Any, own_id: str | None) -> InboxItem | None:
    """An :class:`InboxItem` for a member's mention; None for anything else.

    Favourites, boosts and follows are not member-written content, whatever the
    server sent, and a status of the account itself is not a member's.
    """
    if not isinstance(notification, dict) or notification.get("type") != "mention":
        return None
    status = notification.get("status")
    account = status.get("account") if isinstance(status, dict) else None
    if not isinstance(status, dict) or not isinstance(account, dict) or not status.get("id"):
        return None
    if str(account.get("id")) == own_id:
        return None
    try:
        created = parse_time(status.get("created_at"))
    except ValueError:
        return None
    parent = status.get("in_reply_to_id")
    return InboxItem(
        remote_id=str(status["id"]),
        kind="reply" if parent else "mention",
        author="@" + str(account.get("acct") or account.get("username") or ""),
        author_id=str(account["id"]) if account.get("id") else None,
        text=html_to_text(str(status.get("content") or "")).strip(),
        url=str(status.get("url") or status.get("uri") or "") or None,
        created_at=created,
        in_reply_to=str(parent) if parent else None,
        raw={"notification_id": notification.get("id"), "visibility": status.get("visibility")},
    )


def newer_id(current: str | None, notification: Any) -> str | None:
    """The larger of two notification ids (numeric strings compare by length, then text)."""
    value = notification.get("id") if isinstance(notification, dict) else None
    if value is None:
        return current
    candidate = str(value)
    if current is None or (len(candidate), candidate) > (len(current), current):
        return candidate
    return current
