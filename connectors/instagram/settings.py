"""The ``accounts:`` entry of an Instagram professional account."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from connectors.graph.settings import GRAPH_VERSION, MediaByUrl

__all__ = ["InstagramSettings"]


class InstagramSettings(MediaByUrl):
    """One Instagram professional (business or creator) account.

    Attributes:
        access_token: with Facebook Login, a Page or user token with ``instagram_basic
            instagram_content_publish pages_read_engagement`` (+ ``instagram_manage_insights``);
            with Instagram Login, a token with ``instagram_business_basic
            instagram_business_content_publish`` (+ ``instagram_business_manage_insights``).
        ig_user_id: the Instagram professional account id.
        login: ``facebook`` (graph.facebook.com) or ``instagram`` (graph.instagram.com),
            the login the token came from.
        media_base_url: where your site serves the content's images (Instagram fetches them).
        version: Graph API version, ``v23.0`` unless given.
    """

    ig_user_id: str = Field(pattern=r"^[0-9]+$")
    login: Literal["facebook", "instagram"] = "facebook"
    version: str = Field(default=GRAPH_VERSION, pattern=r"^v[0-9]+\.[0-9]$")
