"""The content library: what to say, independent of where and when.

Content comes from inline ``content:`` entries in ``schedule.yaml`` and from
Markdown files in ``content_dir``, each with YAML front matter
(:mod:`crosspost.loading.front_matter`); an item is a
:class:`~crosspost.loading.content_item.ContentItem`, an article one of
``kind: article`` (docs/articles.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from crosspost.errors import ConfigError, Problem
from crosspost.loading.content_item import ContentItem
from crosspost.loading.front_matter import (
    ContentError,
    declared_id,
    load_markdown,
    template_positions,
)
from crosspost.loading.yamlfile import locate, validation_problems

__all__ = [
    "CONTENT_FILES",
    "Library",
    "load_library",
    "read_library",
]

#: The files of ``content_dir`` that are content items, at any depth.
CONTENT_FILES = "*.md"


@dataclass
class Library:
    """The content items that loaded, and the problems of those that did not."""

    items: dict[str, ContentItem] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    #: Ids of the items that failed to load: a reference to one is not "unknown content".
    failed: set[str] = field(default_factory=set)
    #: The content folder is missing: every reference to a file in it would look unknown.
    folder_missing: bool = False

    def failed_to_load(self, reference: str) -> bool:
        """Whether ``reference`` may name content whose problems are already reported."""
        return self.folder_missing or reference in self.failed


def read_library(
    inline: Iterable[Mapping[str, Any]],
    inline_root: Any,
    schedule_path: Path,
    content_dir: Path | None,
) -> Library:
    """Every content item that loads, by id: inline ones first, then the Markdown files."""
    library = Library()
    for index, raw in enumerate(inline):
        line, _ = locate(inline_root, ["content", index])
        positions = template_positions(inline_root, ["content", index])
        try:
            item = ContentItem.model_validate(
                {
                    **dict(raw),
                    "source": str(schedule_path),
                    "source_line": line,
                    "positions": positions,
                }
            )
        except ValidationError as exc:
            library.problems += validation_problems(
                exc, inline_root, schedule_path, ["content", index], model=ContentItem
            )
            library.failed.add(declared_id(raw, ""))
            continue
        _add(library.items, item, library.problems)
    files = content_dir.rglob(CONTENT_FILES) if content_dir and content_dir.is_dir() else []
    for path in sorted(files):
        try:
            _add(library.items, load_markdown(path, schedule_path.parent), library.problems)
        except ContentError as exc:
            library.problems += exc.problems
            library.failed.add(exc.content_id)
    if content_dir is not None and not content_dir.is_dir():
        line, column = locate(inline_root, ["content_dir"])
        library.problems.append(
            Problem.at(schedule_path, line, column, f"content_dir {content_dir} is not a folder")
        )
        library.folder_missing = True
    return library


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
    library = read_library(inline, inline_root, schedule_path, content_dir)
    if library.problems:
        raise ConfigError(library.problems)
    return library.items


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
