"""A content file: Markdown with YAML front matter, read into a content item at its lines.

::

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

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from crosspost.errors import ConfigError, Problem
from crosspost.loading.content_item import ContentItem
from crosspost.loading.inputfile import read_text
from crosspost.loading.yamlfile import locate, parse_yaml, validation_problems

__all__ = [
    "ContentError",
    "declared_id",
    "load_markdown",
    "split_front_matter",
    "template_positions",
]

_FRONT = "---"


def split_front_matter(text: str) -> tuple[str, str, int]:
    """``(front matter, body, line where the front matter starts)``."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != _FRONT:
        return "", text, 1
    for index in range(1, len(lines)):
        if lines[index].strip() == _FRONT:
            return "".join(lines[1:index]), "".join(lines[index + 1 :]), 2
    return "".join(lines[1:]), "", 2


class ContentError(ConfigError):
    """A content item that could not be loaded; ``content_id`` is the id it would have had."""

    def __init__(self, problems: Iterable[Problem], content_id: str) -> None:
        super().__init__(problems)
        self.content_id = content_id


def load_markdown(path: Path, base: Path | None = None) -> ContentItem:
    """One content file.

    Raises:
        ContentError: bad front matter, at its line.
    """
    shown = path.relative_to(base) if base and path.is_relative_to(base) else path
    try:
        text = read_text(path, shown)
    except ConfigError as exc:
        raise ContentError(exc.problems, path.stem) from None
    if not text.strip():
        raise ContentError([Problem.at(shown, 1, 1, "the content file is empty")], path.stem)
    front, body, first_line = split_front_matter(text)
    try:
        meta = parse_yaml(front, shown, line_offset=first_line - 1) if front.strip() else {}
    except ConfigError as exc:
        raise ContentError(exc.problems, path.stem) from None
    if not isinstance(meta, Mapping):
        problem = Problem.at(shown, first_line, 1, "front matter must be a mapping")
        raise ContentError([problem], path.stem)
    data = {
        "id": path.stem,
        **dict(meta),
        "source": str(path),
        "source_line": 1,
        "positions": template_positions(meta, [], first_line - 1),
    }
    data.setdefault("body", body.strip())
    try:
        return ContentItem.model_validate(data)
    except ValidationError as exc:
        problems = validation_problems(
            exc, meta, shown, line_offset=first_line - 1, model=ContentItem
        )
        raise ContentError(problems, declared_id(meta, path.stem)) from None


def template_positions(
    root: Any, prefix: list[str | int], line_offset: int = 0
) -> dict[str, tuple[int, int]]:
    """Where the item at ``prefix`` of ``root`` names its templates (see ContentItem.positions)."""
    node = root
    for key in prefix:
        node = node[key]
    if not isinstance(node, Mapping):
        return {}
    found: dict[str, list[str | int]] = {}
    for name in ("template", "first_comment", "announcement_template"):
        if name in node:
            found[name] = [name]
    overrides = node.get("overrides")
    for key, values in overrides.items() if isinstance(overrides, Mapping) else ():
        for name in ("template", "first_comment", "announcement_template"):
            if isinstance(values, Mapping) and name in values:
                found[f"overrides.{key}.{name}"] = ["overrides", key, name]
    return {name: locate(root, [*prefix, *loc], line_offset) for name, loc in found.items()}


def declared_id(data: Mapping[str, Any], fallback: str) -> str:
    """The id ``data`` names, else ``fallback``: the id an item that failed to load had."""
    declared = data.get("id")
    return declared if isinstance(declared, str) else fallback
