"""Folder of files: every publication becomes one Markdown, text or JSON file.

No account and no network: handy to see what would go out, to feed a static
site generator (the Markdown front matter is YAML, as Jekyll and Hugo read it)
or to archive. Formats used:

- https://yaml.org/spec/1.2.2/ (front matter; JSON strings are YAML 1.2 scalars)
- https://jekyllrb.com/docs/front-matter/ (``---`` fenced front matter)
- https://www.rfc-editor.org/rfc/rfc8259 (JSON)

File names are ``<YYYYmmddTHHMMSSZ>-<content_id>-<8 hex of sha256(key)>.<ext>``;
the hash suffix is how a second publish with the same key finds the first file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal

from connectors.base import Extra, Rejected, RenderedPost
from connectors.feed.atom import entry_id, entry_title, rfc3339
from connectors.feed.files import FileConnector, FileSettings, atomic_write
from crosspost.rendering.markdown_forms import TextFormat

if TYPE_CHECKING:  # imported where they are made: check never publishes nor diagnoses
    from connectors.attachments import Cover, MediaItem
    from connectors.diagnosis import Diagnosis
    from connectors.results import AccountMetrics, Published

__all__ = ["FolderConnector", "PART_SEPARATOR"]

Format = Literal["markdown", "text", "json"]
EXTENSIONS: dict[str, str] = {"markdown": "md", "text": "txt", "json": "json"}
#: Between the parts of a thread, in the Markdown and text formats.
PART_SEPARATOR = "\n\n---\n\n"
_STAMP = "%Y%m%dT%H%M%SZ"
_NAME = re.compile(
    r"(?P<stamp>\d{8}T\d{6}Z)-(?P<content>[A-Za-z0-9._-]+)-(?P<hash>[0-9a-f]{8})\.(md|txt|json)"
)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
#: A front-matter value: text, a count, or nothing.
Scalar = str | int | None
#: A front-matter value: a scalar, or an article's tags or cover record (JSON is YAML).
Value = Scalar | list[str] | dict[str, str]


class FolderConnector(FileConnector["FolderConnector.Settings"]):
    """Writes each publication as a file in a folder, attachments copied beside it."""

    name: ClassVar[str] = "folder"
    #: Files keep the Markdown as written.
    text_format: ClassVar[TextFormat] = TextFormat.MARKDOWN
    docs_url: ClassVar[str] = "https://jekyllrb.com/docs/front-matter/"

    class Settings(FileSettings):
        """The ``accounts:`` entry of a folder.

        Attributes:
            path: the folder; a relative path starts at the schedule's folder.
            format: ``markdown`` (front matter + text), ``text`` or ``json``.
            base_dir: set by the core to the schedule's folder, not by users.
        """

        format: Format = "markdown"

    @property
    def folder(self) -> Path:
        """The folder the files go to."""
        return self.path

    def diagnose(self) -> Diagnosis:
        """Whether the folder can be written; nothing is created (``crosspost doctor``)."""
        from connectors.diagnosis import Diagnosis, unwritable

        return Diagnosis(
            identity=str(self.folder),
            problems=tuple(unwritable(self.folder, folder=True)),
            details={"format": self.settings.format},
        )

    # -- publishing -----------------------------------------------------------

    def _publish(self, post: RenderedPost, idempotency_key: str) -> Published:
        """Write one file for the whole post (all parts), unless the key already has one.

        Raises:
            Rejected: a media file vanished between the check and the copy.
            AuthError: the folder cannot be written (permissions).
            Transient: any other file-system failure; nothing was written.
        """
        with self._locked():
            existing = self._existing(idempotency_key)
            if existing is not None:
                self.log.info("%s is already in the folder", existing.name)
                return self._published(existing)
            now = self.clock()
            stem = f"{now.strftime(_STAMP)}-{_safe(post.content_id)}-{_short(idempotency_key)}"
            target = self.folder / f"{stem}.{EXTENSIONS[self.settings.format]}"
            cover = post.article.cover if post.article else None
            files = [*post.media, *_cover_file(cover)]
            media = self._copy_media(files, self.folder / f"{stem}.media")
            try:
                atomic_write(target, self._render(post, idempotency_key, now, media))
            except BaseException:
                shutil.rmtree(self.folder / f"{stem}.media", ignore_errors=True)
                raise
        return self._published(target)

    def _copy_media(self, items: Sequence[MediaItem], into: Path) -> list[dict[str, str]]:
        """Copy attachments into ``into`` (all or none); their front-matter records."""
        if not items:
            return []
        self.folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=self.folder, prefix=".crosspost-"))
        records = []
        try:
            for number, item in enumerate(items, start=1):
                name = f"{number:02d}-{_safe(item.path.name)}"
                shutil.copyfile(item.path, staging / name)
                records.append(
                    {"file": f"{into.name}/{name}", "alt": item.alt, "type": item.mime_type}
                )
            os.replace(staging, into)
        except FileNotFoundError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise self.error(Rejected, f"media file {exc.filename} disappeared") from exc
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return records

    def _render(
        self, post: RenderedPost, key: str, now: datetime, media: list[dict[str, str]]
    ) -> bytes:
        article = post.article
        meta: dict[str, Value] = {
            "id": entry_id(key),
            "content_id": post.content_id,
            "title": entry_title(post),
            "link": post.link,
            "published_at": rfc3339(now),
            "parts": len(post.parts),
            "language": post.language,
            "content_warning": post.content_warning or None,
        }
        attachments, covers = media[: len(post.media)], media[len(post.media) :]
        if article is not None:  # a whole article: what a static site generator wants
            meta |= {
                "kind": "article",
                "summary": article.summary or None,
                "canonical_url": article.canonical_url,
                "tags": list(article.tags),
                "cover": _cover_record(article.cover, covers),
            }
        if self.settings.format == "json":
            document = {**meta, "media": attachments, "text": list(post.parts)}
            return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
        body = PART_SEPARATOR.join(post.parts) + "\n"
        if self.settings.format == "text":
            return body.encode("utf-8")
        return (front_matter(meta, attachments) + "\n" + body).encode("utf-8")

    def _published(self, path: Path) -> Published:
        from connectors.results import Published

        match = _NAME.fullmatch(path.name)
        stamp = match["stamp"] if match else ""
        try:
            published_at = datetime.strptime(stamp, _STAMP).replace(tzinfo=UTC)
        except ValueError:
            published_at = self.clock()
        return Published(
            remote_id=path.name,
            url=path.as_uri(),
            published_at=published_at,
            thread_ids=(path.name,),
        )

    # -- reading back ---------------------------------------------------------

    def account_metrics(self) -> AccountMetrics:
        """The number of post files in the folder as ``posts``."""
        from connectors.results import AccountMetrics

        with self._locked():
            return AccountMetrics(posts=len(self._posts()))

    def find_recent(self, idempotency_key: str, text: str) -> Published | None:
        """The file this key produced, if it is still there."""
        with self._locked():
            existing = self._existing(idempotency_key)
        return None if existing is None else self._published(existing)

    def delete(self, remote_id: str, extra: Extra | None = None) -> None:
        """Remove the file and its media folder; a file already gone is not an error.

        Raises:
            Rejected: ``remote_id`` is not the name of a file this connector writes.
        """
        if not _NAME.fullmatch(remote_id):
            raise self.error(Rejected, f"{remote_id!r} is not a post file name of this folder")
        with self._locked():
            target = self.folder / remote_id
            if not target.is_file():
                self.log.info("%s is not in the folder; nothing to delete", remote_id)
                return
            target.unlink()
            shutil.rmtree(self.folder / f"{target.stem}.media", ignore_errors=True)

    # -- the folder -----------------------------------------------------------

    def _posts(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(
            path for path in self.folder.iterdir() if _NAME.fullmatch(path.name) and path.is_file()
        )

    def _existing(self, idempotency_key: str) -> Path | None:
        suffix = _short(idempotency_key)
        return next(
            (
                path
                for path in self._posts()
                if _hash_of(path) == suffix and _same_key(path, idempotency_key)
            ),
            None,
        )


# --------------------------------------------------------------------------- formats


def _cover_file(cover: Cover | None) -> list[MediaItem]:
    """The cover as a file to copy beside the post, when it is a file."""
    if cover is None or cover.path is None:
        return []
    from connectors.attachments import MediaItem

    return [MediaItem(cover.path, cover.alt, cover.mime_type)]


def _cover_record(cover: Cover | None, copied: list[dict[str, str]]) -> dict[str, str] | None:
    """The front-matter record of the cover: the copied file, else its URL."""
    if cover is None:
        return None
    if copied:
        return copied[0]
    return {"url": cover.url or "", "alt": cover.alt, "type": cover.mime_type}


def front_matter(meta: Mapping[str, Value], media: Sequence[Mapping[str, str]]) -> str:
    """``meta`` and the ``media`` records as a ``---`` fenced YAML block.

    Strings are written as JSON (lists and records too), which is valid YAML 1.2.
    """
    lines = ["---"]
    lines += [f"{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in meta.items()]
    lines.append("media: []" if not media else "media:")
    for record in media:
        items = [f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in record.items()]
        lines.append("  - " + "\n    ".join(items))
    lines.append("---")
    return "\n".join(lines) + "\n"


def _hash_of(path: Path) -> str:
    match = _NAME.fullmatch(path.name)
    return match["hash"] if match else ""


def _same_key(path: Path, idempotency_key: str) -> bool:
    """Whether a file with the right suffix really is this key's (text files cannot tell)."""
    if path.suffix == ".txt":
        return True
    return entry_id(idempotency_key) in path.read_text(encoding="utf-8", errors="replace")


def _short(idempotency_key: str) -> str:
    return entry_id(idempotency_key).rsplit(":", 1)[1][:8]


def _safe(name: str) -> str:
    """``name`` reduced to characters that are safe in a file name everywhere."""
    return _UNSAFE.sub("-", name).strip(".-") or "post"
