"""The ``accounts:`` entry of a Threads profile."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from connectors.graph.settings import MediaByUrl

__all__ = ["ThreadsSettings"]


class ThreadsSettings(MediaByUrl):
    """One Threads profile (``accounts:`` entry).

    Attributes:
        access_token: long-lived Threads user token (60 days; refreshed by crosspost) with
            ``threads_basic threads_content_publish`` (+ ``threads_manage_replies`` for
            threads, ``threads_manage_insights`` for counts, ``threads_delete`` to retract).
        user_id: the Threads user id, or ``me`` (the token's own profile).
        host: ``graph.threads.net`` or ``graph.threads.com`` (both serve the API).
        media_base_url: where your site serves the content's images (Threads fetches them).
        refresh_days: refresh the token when fewer days than this are left.
    """

    user_id: str = Field(default="me", pattern=r"^(me|[0-9]+)$")
    host: Literal["graph.threads.net", "graph.threads.com"] = "graph.threads.net"
    refresh_days: int = Field(default=7, ge=1, le=59)
