"""The content library: what to say, independent of where and when.

Content comes from inline ``content:`` entries in ``schedule.yaml`` and from
Markdown files in ``content_dir``, each with YAML front matter::

    ---
    title: crosspost 1.0 is out
    link: https://example.org/blog/1.0
    tags: [release, opensource]
    media:
      - path: images/banner.png
        alt: The crosspost logo over a calendar
    overrides:
      mastodon: {content_warning: release notes, visibility: unlisted}
    ---
    Body text, in Markdown.

The id is the file name without ``.md`` unless the front matter names one.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from crosspost.errors import ConfigError, Problem
from crosspost.inputfile import read_text
from crosspost.schedule import Duration
from crosspost.yamlfile import locate, parse_yaml, validation_problems

__all__ = ["ContentItem", "MediaSpec", "PollSpec", "load_library", "load_markdown"]

_FRONT = "---"


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


class PollSpec(BaseModel):
    """A poll: options, how long it runs, single or multiple choice."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    options: list[str] = Field(min_length=2)
    duration: Duration = timedelta(days=1)
    multiple: bool = False


class ContentItem(BaseModel):
    """One piece of content, before it is rendered for a platform."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    title: str = ""
    body: str = ""
    #: A short version for announcements; the body's first paragraph when empty.
    summary: str = ""
    link: str | None = None
    tags: list[str] = Field(default_factory=list)
    media: list[MediaSpec] = Field(default_factory=list)
    poll: PollSpec | None = None
    content_warning: str = ""
    language: str | None = None
    template: str = "default"
    #: Per platform or per account: field values that replace the ones above,
    #: and options for the connector (``visibility``, ``description``, …).
    overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)
    #: Free values for templates (``{{ vars.date }}``).
    vars: dict[str, Any] = Field(default_factory=dict)
    #: Where it was written, for error messages and relative media paths.
    source: str = ""
    source_line: int = 1

    @field_validator("body")
    @classmethod
    def _stripped(cls, value: str) -> str:
        # ``body: |`` in YAML keeps a final newline; a post must not end in a blank line
        return value.strip()

    def for_target(self, platform: str, account: str) -> tuple[ContentItem, dict[str, Any]]:
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

    def media_paths(self, base: Path) -> list[Path]:
        """Absolute paths of the attachments."""
        return [m.path if m.path.is_absolute() else base / m.path for m in self.media]


_OVERRIDABLE = frozenset(
    {
        "title",
        "body",
        "summary",
        "link",
        "tags",
        "media",
        "poll",
        "content_warning",
        "language",
        "template",
    }
)


def split_front_matter(text: str) -> tuple[str, str, int]:
    """``(front matter, body, line where the front matter starts)``."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != _FRONT:
        return "", text, 1
    for index in range(1, len(lines)):
        if lines[index].strip() == _FRONT:
            return "".join(lines[1:index]), "".join(lines[index + 1 :]), 2
    return "".join(lines[1:]), "", 2


def load_markdown(path: Path, base: Path | None = None) -> ContentItem:
    """One content file.

    Raises:
        ConfigError: bad front matter, at its line.
    """
    shown = path.relative_to(base) if base and path.is_relative_to(base) else path
    text = read_text(path, shown)
    if not text.strip():
        raise ConfigError([Problem.at(shown, 1, 1, "the content file is empty")])
    front, body, first_line = split_front_matter(text)
    meta = parse_yaml(front, shown, line_offset=first_line - 1) if front.strip() else {}
    if not isinstance(meta, Mapping):
        raise ConfigError([Problem.at(shown, first_line, 1, "front matter must be a mapping")])
    data = {"id": path.stem, **dict(meta), "source": str(path), "source_line": 1}
    data.setdefault("body", body.strip())
    try:
        return ContentItem.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            validation_problems(exc, meta, shown, line_offset=first_line - 1, model=ContentItem)
        ) from None


def load_library(
    inline: Iterable[Mapping[str, Any]],
    inline_root: Any,
    schedule_path: Path,
    content_dir: Path | None,
) -> dict[str, ContentItem]:
    """Every content item by id: inline ones first, then the Markdown files.

    Raises:
        ConfigError: with every problem of every item (and duplicate ids).
    """
    items: dict[str, ContentItem] = {}
    problems: list[Problem] = []
    for index, raw in enumerate(inline):
        line, _ = locate(inline_root, ["content", index])
        try:
            item = ContentItem.model_validate(
                {**dict(raw), "source": str(schedule_path), "source_line": line}
            )
        except ValidationError as exc:
            problems += validation_problems(
                exc, inline_root, schedule_path, ["content", index], model=ContentItem
            )
            continue
        _add(items, item, problems)
    for path in sorted(content_dir.rglob("*.md")) if content_dir and content_dir.is_dir() else []:
        try:
            _add(items, load_markdown(path, schedule_path.parent), problems)
        except ConfigError as exc:
            problems += exc.problems
    if content_dir is not None and not content_dir.is_dir():
        line, column = locate(inline_root, ["content_dir"])
        problems.append(
            Problem.at(schedule_path, line, column, f"content_dir {content_dir} is not a folder")
        )
    if problems:
        raise ConfigError(problems)
    return items


def _add(items: dict[str, ContentItem], item: ContentItem, problems: list[Problem]) -> None:
    if item.id in items:
        first = items[item.id]
        problems.append(
            Problem.at(
                item.source,
                item.source_line,
                1,
                f'content id "{item.id}" is also defined in {first.source}',
            )
        )
    items[item.id] = item
