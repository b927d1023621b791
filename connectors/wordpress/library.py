"""What a post refers to: terms (tags, categories) by name and the featured image."""

from __future__ import annotations

import html
from collections.abc import Iterable
from urllib.parse import quote

from pydantic import JsonValue

from connectors.base import Cover, Rejected
from connectors.http import HttpConnector, Kind
from connectors.longform import read_upload
from connectors.payload import JSONObject
from connectors.wordpress.settings import WordPressSettings

#: The REST base of each taxonomy a post refers to.
TAXONOMIES = ("tags", "categories")


class WordPressLibrary(HttpConnector[WordPressSettings]):
    """Term look-ups and media uploads of :class:`connectors.wordpress.WordPressConnector`."""

    def term_ids(self, taxonomy: str, names: Iterable[str]) -> list[int]:
        """The ids of the terms named ``names`` in ``taxonomy``, made when missing.

        Raises:
            AuthError, RateLimited, Rejected, Transient.
        """
        return [self._term_id(taxonomy, name) for name in dict.fromkeys(names) if name.strip()]

    def _term_id(self, taxonomy: str, name: str) -> int:
        path = f"/wp/v2/{taxonomy}"
        params = {"search": name, "per_page": "100", "_fields": "id,name"}
        response = self.http.request("GET", path, kind=Kind.READ, params=params)
        found = self.http.json(response, Kind.READ)
        for term in found if isinstance(found, list) else []:
            if isinstance(term, dict) and _same(term.get("name"), name):
                return int(str(term["id"]))
        # a term is not a post: making it twice is refused (term_exists) and answered below
        response = self.http.request(
            "POST", path, kind=Kind.HARMLESS_WRITE, json={"name": name}, ok=(400,)
        )
        body = self.http.json_object(response, Kind.HARMLESS_WRITE)
        term_id = body.get("id") if response.ok else _existing_term(body)
        if not isinstance(term_id, int):
            raise self.http.failure(response, Kind.HARMLESS_WRITE)
        return term_id

    def featured_media(self, cover: Cover) -> int:
        """Upload the cover and set its alt text; the new media item's id.

        Raises:
            AuthError, RateLimited, Rejected, Transient.
        """
        if cover.path is None:
            raise self.error(Rejected, "WordPress needs the cover as a file (cover.path)")
        content = read_upload(self, cover.path)
        # an attachment nobody uses yet: uploading it again is harmless
        kind = Kind.HARMLESS_WRITE
        disposition = f'attachment; filename="{quote(cover.path.name)}"'
        response = self.http.request(
            "POST",
            "/wp/v2/media",
            kind=kind,
            data=content,
            headers={"Content-Type": cover.mime_type, "Content-Disposition": disposition},
        )
        media_id = self.http.json_object(response, kind).get("id")
        if not isinstance(media_id, int):
            raise self.http.unreadable(f"{cover.path.name}: the upload answer has no id", kind)
        if cover.alt:
            self.http.request(
                "POST", f"/wp/v2/media/{media_id}", kind=kind, json={"alt_text": cover.alt}
            )
        return media_id


def _same(found: JsonValue, name: str) -> bool:
    return isinstance(found, str) and html.unescape(found).casefold() == name.casefold()


def _existing_term(body: JSONObject) -> JsonValue:
    """``term_id`` of a ``term_exists`` refusal (two look-ups raced, or search missed it)."""
    data = body.get("data")
    if body.get("code") == "term_exists" and isinstance(data, dict):
        return data.get("term_id")
    return None
