"""What every Meta account entry has: a token; and the media URL root two of them need."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, field_validator

from connectors.base import ConnectorSettings, NonBlankSecret

__all__ = ["GRAPH_VERSION", "GraphSettings", "MediaByUrl"]

#: Graph API version used by Facebook and Instagram unless the account names one.
GRAPH_VERSION = "v23.0"


class GraphSettings(ConnectorSettings):
    """An account of a Meta Graph API."""

    #: The long-lived token (a Page token for Facebook); give it as ``${ENV_VAR}``.
    access_token: NonBlankSecret


class MediaByUrl(GraphSettings):
    """An account whose platform fetches media from the user's own site (Threads, Instagram)."""

    #: Where the site serves the content's media: ``images/a.jpg`` in the content becomes
    #: ``{media_base_url}/images/a.jpg``.
    media_base_url: str | None = Field(default=None)

    @field_validator("media_base_url")
    @classmethod
    def _public_https(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("must be an https:// address such as https://example.org/media")
        return value.strip().rstrip("/")
