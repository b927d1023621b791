"""A content item: what to say, independent of where and when, and its attachments.

An article (``kind: article``) is long-form content: it needs a title, may name a
``canonical_url`` (where it lives first) and a ``cover`` image, and goes out whole to
long-form platforms; short platforms get an announcement (summary and link) instead,
rendered with ``announcement_template`` (docs/articles.md)::

    ---
    kind: article
    title: How we rebuilt the laser cutter
    summary: Six weekends, one new tube and what we learnt about mirrors.
    canonical_url: https://makerspace.example/blog/laser-cutter
    cover: {path: images/laser.jpg, alt: The laser cutter with its lid open}
    tags: [laser, repair]
    ---
    The whole article, in Markdown.
"""

# Annotations are not postponed (no ``from __future__ import annotations``): pydantic
# builds these models at import and would compile and evaluate each one from a string.
import mimetypes
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from crosspost.loading.spec_types import ID_PATTERN, Duration, LocalDateTime

__all__ = [
    "ARTICLE_TEMPLATE",
    "ANNOUNCEMENT_TEMPLATE",
    "ContentItem",
    "CoverSpec",
    "MediaSpec",
    "PROVENANCE",
    "PollSpec",
]

#: The templates an article uses unless it names others (built in: crosspost.rendering.templates).
ARTICLE_TEMPLATE = "article"
ANNOUNCEMENT_TEMPLATE = "announcement"


def _web_address(value: str | None) -> str | None:
    """``value`` if it is an http(s) URL with a host and no spaces."""
    if value is None:
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        raise ValueError(f"{value!r} is not a web address (expected https://…)")
    return value.strip()


class MediaSpec(BaseModel):
    """One attachment: a file (relative to where the content is written) and its alt text."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Path
    alt: str = ""
    type: str | None = None

    @property
    def mime_type(self) -> str:
        """The declared type, else the one the file name suggests."""
        return self.type or mimetypes.guess_type(self.path.name)[0] or "application/octet-stream"


class CoverSpec(BaseModel):
    """An article's cover image: a file (uploaded where the platform takes one) and/or a URL."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Path | None = None
    url: str | None = None
    alt: str = ""
    type: str | None = None

    @field_validator("url")
    @classmethod
    def _web(cls, value: str | None) -> str | None:
        return _web_address(value)

    @model_validator(mode="after")
    def _somewhere(self) -> "CoverSpec":
        if self.path is None and self.url is None:
            raise ValueError("a cover needs a path (a file) or a url")
        return self

    @property
    def mime_type(self) -> str:
        """The declared type, else the one the file name (or URL) suggests."""
        name = self.path.name if self.path else urlsplit(self.url or "").path
        return self.type or mimetypes.guess_type(name)[0] or "application/octet-stream"


class PollSpec(BaseModel):
    """A poll: options, how long it runs, single or multiple choice."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    options: list[str] = Field(min_length=2)
    duration: Duration = timedelta(days=1)
    multiple: bool = False


class ContentItem(BaseModel):
    """One piece of content, before it is rendered for a platform."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN)
    title: str = ""
    #: ``article``: long-form, published whole where the platform takes articles and
    #: announced (summary and link) everywhere else.
    kind: Literal["post", "article"] = "post"
    body: str = ""
    #: A short version for announcements; the body's first paragraph when empty.
    summary: str = ""
    link: str | None = None
    #: Articles: the address the article lives at first (copies point search engines to it).
    canonical_url: str | None = None
    #: Articles: the cover image.
    cover: CoverSpec | None = None
    tags: list[str] = []
    media: list[MediaSpec] = []
    poll: PollSpec | None = None
    content_warning: str = ""
    language: str | None = None
    template: str = "default"
    #: Articles: the template of the announcement on platforms that do not take articles.
    announcement_template: str = ANNOUNCEMENT_TEMPLATE
    #: Per platform or per account: field values that replace the ones above,
    #: and options for the connector (``visibility``, ``description``, …).
    overrides: dict[str, dict[str, Any]] = {}
    #: Free values for templates (``{{ vars.date }}``).
    vars: dict[str, Any] = {}
    #: Posted as a reply (or comment) right after the post, where the connector can;
    #: a template string with the post's variables (``{{ link }}``).
    first_comment: str = ""
    #: Who approved this content, for entries with ``approval: required`` (reviewed in git).
    approved_by: str = ""
    approved_at: LocalDateTime | None = None
    #: Where it was written, for error messages and relative media paths.
    source: str = ""
    source_line: int = 1
    #: Line and column in ``source`` of the keys that name a template (``template``,
    #: ``overrides.<key>.template``) and of ``first_comment`` (and its overrides), so that
    #: a problem with one is reported where it is written.
    positions: dict[str, tuple[int, int]] = {}

    @model_validator(mode="before")
    @classmethod
    def _article_template(cls, data: Any) -> Any:
        # an article is its body on a long-form platform unless it names a template
        if isinstance(data, Mapping) and data.get("kind") == "article" and "template" not in data:
            return {**data, "template": ARTICLE_TEMPLATE}
        return data

    @field_validator("kind")
    @classmethod
    def _titled(cls, value: str, info: ValidationInfo) -> str:
        if value == "article" and not str(info.data.get("title") or "").strip():
            raise ValueError("an article needs a title (add title: …)")
        return value

    @field_validator("canonical_url")
    @classmethod
    def _canonical(cls, value: str | None) -> str | None:
        return _web_address(value)

    @field_validator("body")
    @classmethod
    def _stripped(cls, value: str) -> str:
        # ``body: |`` in YAML keeps a final newline; a post must not end in a blank line
        return value.strip()

    @property
    def is_article(self) -> bool:
        """Whether this is long-form content (``kind: article``)."""
        return self.kind == "article"

    def for_target(self, platform: str, account: str) -> tuple["ContentItem", dict[str, Any]]:
        """This item with the overrides for ``platform`` then ``account`` applied.

        Returns:
            The item, and the override keys that are not content fields (connector options).
        """
        changes: dict[str, Any] = {}
        options: dict[str, Any] = {}
        for key in (platform, account):
            for name, value in self.overrides.get(key, {}).items():
                target = changes if name in _OVERRIDABLE else options
                target[name] = value
        item = self.model_validate({**self.model_dump(), **changes}) if changes else self
        return item, options

    def template_variables(self) -> dict[str, Any]:
        """Variables this item adds to its templates' own (an event step's countdown)."""
        return {}

    def named_templates(self) -> list[tuple[str, str]]:
        """Every template this item names: ``(field, name)``, overrides included."""
        fields = ["template", "announcement_template"] if self.is_article else ["template"]
        named = [(name, str(getattr(self, name))) for name in fields]
        for key, values in self.overrides.items():
            for name in fields:
                if isinstance(values.get(name), str):
                    named.append((f"overrides.{key}.{name}", values[name]))
        return named

    def template_field(self, platform: str, account: str, name: str = "template") -> str:
        """Where template field ``name`` for ``platform`` and ``account`` is set (account wins)."""
        for key in (account, platform):
            if name in self.overrides.get(key, {}):
                return f"overrides.{key}.{name}"
        return name

    def position(self, key: str) -> tuple[int, int]:
        """Line and column of ``key`` in the source (the item's own line if not recorded)."""
        return self.positions.get(key, (self.source_line, 1))

    def media_paths(self, base: Path) -> list[Path]:
        """Absolute paths of the attachments."""
        return [m.path if m.path.is_absolute() else base / m.path for m in self.media]


_OVERRIDABLE = frozenset(
    {
        "title",
        "body",
        "summary",
        "link",
        "canonical_url",
        "cover",
        "announcement_template",
        "tags",
        "media",
        "poll",
        "content_warning",
        "language",
        "template",
        "first_comment",
    }
)

#: Fields that say where an item was written or who approved it, not what it says.
PROVENANCE = frozenset({"source", "source_line", "positions", "approved_by", "approved_at"})
