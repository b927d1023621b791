"""Mentions in the mock server: who a status names, and the notifications that follow.

Like Mastodon (https://docs.joinmastodon.org/methods/notifications/), a status that
names a local account (``@name``, or ``@name@host`` with this server's host) gives
that account a ``mention`` notification, unless it wrote the status itself. Ids
come from the server's id maker, so they grow with time as Mastodon's do.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tests.mockplatform.entities import Account, iso

__all__ = ["Notification", "mentioned", "notification_json", "page"]

_MENTION = re.compile(r"(?<![\w/])@(?P<name>[a-z0-9_]+)(?:@(?P<host>[\w.:-]+))?", re.IGNORECASE)


@dataclass
class Notification:
    """One notification of ``account_id``: ``type`` about ``status_id`` by another account."""

    id: str
    account_id: str
    type: str
    status_id: str
    created_at: datetime


def mentioned(text: str, accounts: Iterable[Account], host: str) -> list[Account]:
    """The local accounts ``text`` names, in order, each once."""
    by_name = {account.username.lower(): account for account in accounts}
    found: list[Account] = []
    for match in _MENTION.finditer(text):
        account = by_name.get(match["name"].lower())
        if account is not None and match["host"] in (None, host) and account not in found:
            found.append(account)
    return found


def notification_json(note: Notification, status: dict[str, Any]) -> dict[str, Any]:
    """The Notification entity; ``account`` is the status's author."""
    return {
        "id": note.id,
        "type": note.type,
        "group_key": f"ungrouped-{note.id}",
        "created_at": iso(note.created_at),
        "account": status["account"],
        "status": status,
    }


def page(
    notes: Sequence[Notification],
    view: Callable[[Notification], dict[str, Any] | None],
    *,
    types: Sequence[str],
    since_id: str | None,
    max_id: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Newest first, strictly between ``since_id`` and ``max_id``, at most ``limit``."""
    chosen = [n for n in notes if not types or n.type in types]
    chosen.sort(key=lambda n: int(n.id), reverse=True)
    if max_id:
        chosen = [n for n in chosen if int(n.id) < int(max_id)]
    if since_id:
        chosen = [n for n in chosen if int(n.id) > int(since_id)]
    shown = (view(n) for n in chosen)
    return [body for body in shown if body is not None][:limit]
