"""The ``accounts:`` entry of a Facebook Page."""

from __future__ import annotations

from pydantic import Field

from connectors.graph.settings import GRAPH_VERSION, GraphSettings

__all__ = ["FacebookSettings"]


class FacebookSettings(GraphSettings):
    """One Facebook Page (``accounts:`` entry).

    Attributes:
        access_token: a Page access token (from ``GET /me/accounts`` with a long-lived
            user token) with ``pages_manage_posts pages_read_engagement``
            (+ ``read_insights`` for views).
        page_id: the Page's numeric id.
        version: Graph API version, ``v23.0`` unless given.
    """

    page_id: str = Field(pattern=r"^[0-9]+$")
    version: str = Field(default=GRAPH_VERSION, pattern=r"^v[0-9]+\.[0-9]$")
