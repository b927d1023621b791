"""The update reader's state: offset, reaction counts, the inbox queue and threads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from connectors.base import (
    InboxItem,
)

#: Queued inbox items kept at most; older ones are dropped with a warning.
_QUEUE_MAX = 5000
#: The update type that carries reaction counts of channel posts.
REACTIONS = "message_reaction_count"


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
        counted = _read_counts(update.get(REACTIONS))
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
