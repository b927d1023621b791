"""Atom feed file: every publication becomes one entry of a local Atom 1.0 document.

No account and no network: the connector rewrites a file that any web server
(or a feed reader pointed at the file) can serve. Specification used:

- https://www.rfc-editor.org/rfc/rfc4287 (Atom: §4.1.1 feed, §4.1.2 entry,
  §4.2.7 link and ``rel="enclosure"``, §4.2.2 category, §3.3 date constructs)
- https://www.rfc-editor.org/rfc/rfc3339 (timestamps)
- https://validator.w3.org/feed/docs/atom.html (readable summary of RFC 4287)

The base class and the file helpers (path resolution, file lock, atomic write)
in :mod:`connectors.feed.files` are shared with :mod:`connectors.folder`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from connectors.base import Extra, Limits, Rejected, RenderedPost
from connectors.feed.atom import (
    _A,
    _XML_LANG,
    ATOM_NS,
    Clock,
    _cover,
    _enclosure,
    _find_entry,
    _first_entry_index,
    _text,
    entry_id,
    entry_title,
    rfc3339,
    utc_now,
)
from connectors.feed.files import FileConnector, atomic_write, file_lock, os_error, resolve_path
from connectors.feed.settings import FeedSettings
from crosspost.rendering.markdown_forms import BLOCK_HTML_TAGS, TextFormat
from crosspost.rendering.markup import visible_text
from crosspost.rendering.text import find_hashtags

if TYPE_CHECKING:  # imported where they are made: check never publishes nor diagnoses
    from connectors.diagnosis import Diagnosis
    from connectors.results import AccountMetrics, Published

__all__ = [
    "ATOM_NS",
    "Clock",
    "FeedConnector",
    "FeedSettings",
    "atomic_write",
    "entry_id",
    "file_lock",
    "os_error",
    "resolve_path",
    "rfc3339",
    "utc_now",
]


class FeedConnector(FileConnector[FeedSettings]):
    """Publishes into an Atom feed file, newest entry first, at most ``max_entries``."""

    name: ClassVar[str] = "feed"
    #: Entries carry HTML content (block tags, links, images).
    text_format: ClassVar[TextFormat] = TextFormat.HTML
    html_tags: ClassVar[frozenset[str]] = BLOCK_HTML_TAGS
    docs_url: ClassVar[str] = "https://www.rfc-editor.org/rfc/rfc4287"

    Settings = FeedSettings

    @property
    def feed_id(self) -> str:
        """The feed's permanent IRI."""
        return self.settings.id or f"urn:crosspost:feed:{self.account}"

    def _lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    def diagnose(self) -> Diagnosis:
        """Whether the feed file can be read and replaced; nothing is written (``doctor``)."""
        from connectors.diagnosis import Diagnosis, unwritable

        problems = unwritable(self.path, folder=False)
        entries = 0
        if not problems and self.path.is_file():
            try:
                entries = len(self._read().findall(f"{_A}entry"))
            except Rejected as error:
                problems.append(error.reason)
        return Diagnosis(
            identity=str(self.path),
            problems=tuple(problems),
            details={"entries": str(entries), "feed id": self.feed_id},
        )

    # -- checks ---------------------------------------------------------------

    def _check_media(self, post: RenderedPost, limits: Limits) -> list[str]:
        """The shared media rules, plus: enclosures must be images."""
        problems = super()._check_media(post, limits)
        for item in post.media:
            if not item.mime_type.startswith("image/"):
                problems.append(f"{item.path.name}: type {item.mime_type} (expected image/*)")
        return problems

    # -- publishing -----------------------------------------------------------

    def _publish(self, post: RenderedPost, idempotency_key: str) -> Published:
        """Add one entry for the whole post (all parts), unless the key already has one.

        Raises:
            Rejected: the existing file is not an Atom feed, or a media file vanished.
            AuthError: the file or its folder cannot be written (permissions).
            Transient: any other file-system failure; nothing was written.
        """
        wanted = entry_id(idempotency_key)
        with self._locked():
            root = self._read()
            existing = _find_entry(root, wanted)
            if existing is not None:
                self.log.info("entry %s is already in the feed", wanted)
                return self._published(existing)
            now = self.clock()
            entry = self._entry(post, wanted, now)
            root.insert(_first_entry_index(root), entry)
            self._write(root, now)
        return self._published(entry)

    def _entry(self, post: RenderedPost, wanted: str, now: datetime) -> ET.Element:
        entry = ET.Element(f"{_A}entry")
        if post.language:
            entry.set(_XML_LANG, post.language)
        _text(entry, "id", wanted)
        body = "\n\n".join(post.parts)
        shown = visible_text(body)
        _text(entry, "title", entry_title(replace(post, parts=(shown,))))
        _text(entry, "published", rfc3339(now))
        _text(entry, "updated", rfc3339(now))
        if post.link:
            ET.SubElement(entry, f"{_A}link", rel="alternate", href=post.link)
        for item in post.media:
            ET.SubElement(entry, f"{_A}link", _enclosure(item))
        article = post.article
        if article is not None and article.cover is not None:
            ET.SubElement(entry, f"{_A}link", _cover(article.cover))
        tags = article.tags if article else (span.text[1:] for span in find_hashtags(shown))
        for tag in dict.fromkeys(tags):
            ET.SubElement(entry, f"{_A}category", term=tag)
        summary = post.content_warning or (article.summary if article else "")
        if summary:
            _text(entry, "summary", summary).set("type", "text")
        _text(entry, "content", body).set("type", "html")
        return entry

    def _published(self, entry: ET.Element) -> Published:
        from connectors.results import Published

        remote_id = entry.findtext(f"{_A}id") or ""
        stamp = entry.findtext(f"{_A}published") or entry.findtext(f"{_A}updated") or ""
        try:
            published_at = datetime.fromisoformat(stamp)
        except ValueError:
            published_at = self.clock()
        if published_at.tzinfo is None:  # hand-written entries may omit the offset
            published_at = published_at.replace(tzinfo=UTC)
        return Published(
            remote_id=remote_id,
            url=f"{self.path.as_uri()}#{remote_id}",
            published_at=published_at,
            thread_ids=(remote_id,),
        )

    # -- reading back ---------------------------------------------------------

    def account_metrics(self) -> AccountMetrics:
        """The number of entries in the feed as ``posts``; nothing else is knowable."""
        from connectors.results import AccountMetrics

        with self._locked():
            root = self._read()
        return AccountMetrics(posts=len(root.findall(f"{_A}entry")))

    def find_recent(self, idempotency_key: str, text: str) -> Published | None:
        """The entry this key produced, if it is (still) in the feed."""
        with self._locked():
            entry = _find_entry(self._read(), entry_id(idempotency_key))
        return None if entry is None else self._published(entry)

    def delete(self, remote_id: str, extra: Extra | None = None) -> None:
        """Drop the entry; an entry that is already gone is not an error.

        Readers that fetched the feed before keep their cached copy.
        """
        with self._locked():
            root = self._read()
            entry = _find_entry(root, remote_id)
            if entry is None:
                self.log.info("entry %s is not in the feed; nothing to delete", remote_id)
                return
            root.remove(entry)
            self._write(root, self.clock())

    # -- the file -------------------------------------------------------------

    def _read(self) -> ET.Element:
        """The feed's root element: parsed from the file, or a new empty feed."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return ET.Element(f"{_A}feed")
        try:
            root = ET.fromstring(data)
        except ET.ParseError as exc:
            raise self._corrupt(f"it is not well-formed XML ({exc})") from exc
        if root.tag != f"{_A}feed":
            raise self._corrupt(f"its root element is {root.tag}, not an Atom <feed>")
        return root

    def _corrupt(self, why: str) -> Rejected:
        return self.error(
            Rejected,
            f"{self.path} cannot be updated: {why}; fix or move the file "
            "(crosspost never overwrites it)",
        )

    def _write(self, root: ET.Element, now: datetime) -> None:
        entries = root.findall(f"{_A}entry")
        for old in entries[self.settings.max_entries :]:
            root.remove(old)
        feed = self._header(now)
        feed.extend(root.findall(f"{_A}entry"))
        ET.indent(feed)
        data = ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"
        atomic_write(self.path, data)

    def _header(self, now: datetime) -> ET.Element:
        """A fresh ``<feed>`` with the metadata of the current settings."""
        settings = self.settings
        feed = ET.Element(f"{_A}feed")
        _text(feed, "id", self.feed_id)
        _text(feed, "title", settings.title)
        _text(feed, "updated", rfc3339(now))
        author = ET.SubElement(feed, f"{_A}author")
        _text(author, "name", settings.author)
        if settings.link:
            ET.SubElement(feed, f"{_A}link", rel="alternate", href=settings.link)
        if settings.self_url:
            ET.SubElement(feed, f"{_A}link", rel="self", href=settings.self_url)
        _text(feed, "generator", "crosspost")
        return feed
