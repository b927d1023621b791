"""Strong references (``uri`` + ``cid``) of Bluesky posts, as replies name them."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["reply_root", "strong_ref"]


def strong_ref(value: object) -> dict[str, str] | None:
    """``{"uri", "cid"}`` from a mapping that has both as non-empty strings, else None."""
    if isinstance(value, Mapping):
        uri, cid = value.get("uri"), value.get("cid")
        if isinstance(uri, str) and isinstance(cid, str) and uri and cid:
            return {"uri": uri, "cid": cid}
    return None


def reply_root(record: Mapping[str, object]) -> dict[str, str] | None:
    """The ``reply.root`` strong reference of a post record, None when it starts a thread."""
    reply = record.get("reply")
    return strong_ref(reply.get("root")) if isinstance(reply, Mapping) else None
