"""Shapes of Graph API answers shared by the Meta connectors, and how to read them.

- Insights (``/{object}/insights``): ``{"data": [{"name", "period", "values": [{"value"}],
  "total_value": {"value"}, "title", "description", "id"}]}``; a value is a number, or a
  map of numbers for the ``*_by_type`` metrics.
- Lists (``/{user}/threads``, ``/{ig-user}/media``, ``/{page}/published_posts``):
  ``{"data": [...], "paging": {"cursors": {"before", "after"}, "next"}}``.
- Times: ISO 8601 with a ``+0000`` offset, e.g. ``2026-11-26T10:00:03+0000``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import PurePosixPath
from typing import TypedDict, cast

from connectors.base import MediaItem, RenderedPost

__all__ = [
    "Insight",
    "count",
    "insight_values",
    "items",
    "media_url",
    "media_url_problems",
    "number",
    "parse_time",
]

#: A value of one insight: a count, or counts by type (``post_reactions_by_type_total``).
InsightValue = int | dict[str, int]


class _Value(TypedDict, total=False):
    value: InsightValue
    end_time: str


class Insight(TypedDict, total=False):
    """One metric of an insights answer."""

    name: str
    period: str
    values: list[_Value]
    total_value: _Value
    title: str
    description: str
    id: str


def items(body: Mapping[str, object]) -> list[dict[str, object]]:
    """The objects of a list answer's ``data`` (anything else in it is skipped)."""
    data = body.get("data")
    if not isinstance(data, list):
        return []
    return [entry for entry in data if isinstance(entry, dict)]


def insight_values(body: Mapping[str, object]) -> dict[str, InsightValue]:
    """``name → value`` of an insights answer: ``total_value``, else the latest of ``values``."""
    found: dict[str, InsightValue] = {}
    for entry in items(body):
        insight = cast(Insight, entry)
        name = insight.get("name")
        total = insight.get("total_value")
        values = insight.get("values") or []
        value = total.get("value") if isinstance(total, dict) else None
        if value is None and values and isinstance(values[-1], dict):
            value = values[-1].get("value")
        if isinstance(name, str) and _is_value(value):
            found[name] = cast(InsightValue, value)
    return found


def _is_value(value: object) -> bool:
    if isinstance(value, dict):
        return all(number(v) is not None for v in value.values())
    return number(value) is not None


def number(value: object) -> int | None:
    """``value`` when it is a whole number (JSON booleans are not)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def count(values: Mapping[str, InsightValue], name: str) -> int | None:
    """The count of metric ``name``; a by-type map counts as the sum of its types."""
    value = values.get(name)
    if isinstance(value, dict):
        return sum(value.values())
    return value


def parse_time(value: object) -> datetime | None:
    """A Graph API time (``2026-11-26T10:00:03+0000``), or None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


# --------------------------------------------------------------------------- media by URL


def media_url(base: str | None, item: MediaItem) -> str | None:
    """``{base}/{path as written in the content}``, or None when it cannot be built."""
    if not base or not item.relative_path:
        return None
    path = PurePosixPath(item.relative_path)
    if path.is_absolute() or ".." in path.parts:
        return None
    return f"{base.rstrip('/')}/{path.as_posix().removeprefix('./')}"


def media_url_problems(base: str | None, post: RenderedPost, platform: str) -> list[str]:
    """Why the post's media cannot be given to ``platform`` as public URLs."""
    if not post.media:
        return []
    if not base:
        return [
            f"{platform} fetches media from a public URL: set media_base_url in the account "
            "settings (where your site serves the content's media files)"
        ]
    return [
        f"{item.path.name}: its path must be written relative to the content "
        f"(without '..') to become a URL under media_base_url"
        for item in post.media
        if media_url(base, item) is None
    ]
