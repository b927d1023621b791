"""Mastodon's entities as the connector reads them: Status, Account, Notification, media."""

from __future__ import annotations

from datetime import datetime

from connectors.base import InboxItem
from connectors.mastodon.counting import html_to_text
from connectors.payload import Id, Maybe, Payload


def parse_time(value: str | None) -> datetime:
    """A Mastodon timestamp, which always has a zone.

    Raises:
        ValueError: it is missing, not ISO 8601 or without a zone.
    """
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("timestamp without a time zone")
    return parsed


class Account(Payload):
    """An Account entity."""

    id: Maybe[Id]
    acct: Maybe[str]
    username: Maybe[str]
    followers_count: Maybe[int]
    following_count: Maybe[int]
    statuses_count: Maybe[int]

    def counts(self) -> dict[str, int]:
        """The counts the server gave, by their names (for ``raw``)."""
        return self.model_dump(
            include={"followers_count", "following_count", "statuses_count"}, exclude_none=True
        )


class Status(Payload):
    """A Status entity."""

    id: Maybe[Id]
    created_at: Maybe[str]
    url: Maybe[str]
    uri: Maybe[str]
    content: Maybe[str]
    visibility: Maybe[str]
    in_reply_to_id: Maybe[Id]
    #: The boosted status, when this is a boost.
    reblog: Maybe[dict[str, object]]
    account: Maybe[Account]
    favourites_count: Maybe[int]
    reblogs_count: Maybe[int]
    replies_count: Maybe[int]
    quotes_count: Maybe[int]

    def counts(self) -> dict[str, int]:
        """The counts the server gave, by their names (for ``raw``)."""
        fields = {"favourites_count", "reblogs_count", "replies_count", "quotes_count"}
        return self.model_dump(include=fields, exclude_none=True)


class Notification(Payload):
    """A Notification entity."""

    id: Maybe[Id]
    type: Maybe[str]
    status: Maybe[Status]


class Media(Payload):
    """A MediaAttachment: ``url`` is null while the server processes it."""

    id: Maybe[Id]
    url: Maybe[str]


def inbox_item(notification: Notification, own_id: str | None) -> InboxItem | None:
    """An :class:`InboxItem` for a member's mention; None for anything else.

    Favourites, boosts and follows are not member-written content, whatever the
    server sent, and a status of the account itself is not a member's.
    """
    status = notification.status
    if notification.type != "mention" or status is None:
        return None
    account = status.account
    if account is None or status.id is None or (own_id is not None and account.id == own_id):
        return None
    try:
        created = parse_time(status.created_at)
    except ValueError:
        return None
    parent = status.in_reply_to_id
    return InboxItem(
        remote_id=status.id,
        kind="reply" if parent else "mention",
        author="@" + (account.acct or account.username or ""),
        author_id=account.id,
        text=html_to_text(status.content or "").strip(),
        url=status.url or status.uri or None,
        created_at=created,
        in_reply_to=parent,
        raw={"notification_id": notification.id, "visibility": status.visibility},
    )


def newer_id(current: str | None, notification: Notification) -> str | None:
    """The larger of two notification ids (numeric strings compare by length, then text)."""
    candidate = notification.id
    if candidate is None:
        return current
    if current is None or (len(candidate), candidate) > (len(current), current):
        return candidate
    return current
