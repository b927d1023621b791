"""``crosspost report --format json``, and the documented columns CSV shares with it.

The CSV columns and JSON keys are a stable, documented interface
(``docs/report-formats.md``); :data:`COLUMNS` is the single list of them and
:func:`report_data` the values both formats write (times in UTC with ``Z``, floats
rounded to 6 places).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from crosspost.reporting.report_figures import PostFigures, Report

__all__ = ["COLUMNS", "REPORT_VERSION", "report_data", "to_json"]

#: Bumped only when a documented column or key changes meaning or goes away.
REPORT_VERSION = 1

_POST = (
    "publication_id",
    "account",
    "platform",
    "entry",
    "content",
    "published_at",
    "url",
    "likes",
    "reposts",
    "replies",
    "quotes",
    "views",
    "bookmarks",
    "reactions",
    "followers_at_publish",
    "engagement_rate",
    "velocity_24h",
    "conversions",
    "clicks",
    "conversion_value",
    "title",
)

#: Columns of every CSV section, in order; the JSON objects use the same keys.
COLUMNS: dict[str, tuple[str, ...]] = {
    "meta": ("key", "value"),
    "posts": _POST,
    "top_posts": ("rank", *_POST),
    "bottom_posts": ("rank", *_POST),
    "accounts": (
        "account",
        "platform",
        "followers_start",
        "followers_end",
        "net_growth",
        "joins",
        "leaves",
        "churn_rate",
        "posts_published",
        "reactions",
        "reactions_per_post",
        "conversions",
    ),
    "followers": ("account", "platform", "collected_at", "followers"),
    "community": (
        "week",
        "week_start",
        "mentions",
        "replies",
        "other",
        "total",
        "distinct_authors",
        "growth",
    ),
    "when_to_post": (
        "platform",
        "weekday",
        "hour",
        "posts",
        "median_reactions",
        "ratio",
        "ratio_low",
        "ratio_high",
    ),
    "when_to_post_status": ("platform", "posts", "enough_data", "message", "advice"),
    "responses": (
        "account",
        "platform",
        "received",
        "answered",
        "answer_rate",
        "median_response_hours",
        "questions",
        "unanswered_questions",
    ),
}


def _time_text(value: datetime) -> str:
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


#: How a value of each type is written; every other type (int, str, bool, None) as is.
_CONVERSIONS: dict[type, Callable[[Any], Any]] = {
    datetime: _time_text,
    date: date.isoformat,
    float: lambda value: round(value, 6),
}


def _json_value(value: Any) -> Any:
    """Times as ISO 8601 UTC with ``Z``, dates as ``YYYY-MM-DD``, floats rounded to 6 places."""
    if isinstance(value, datetime):
        return _time_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 6)
    return value


def _row(item: Any, columns: Sequence[str]) -> dict[str, Any]:
    # getattr, not dataclasses.asdict: asdict deep-copies every field of every row;
    # a lookup by exact type, not isinstance chains: this runs for each of 200,000 values.
    row = {}
    conversions = _CONVERSIONS
    for name in columns:
        value = getattr(item, name)
        convert = conversions.get(type(value))
        row[name] = value if convert is None else convert(value)
    return row


def _post(post: PostFigures) -> dict[str, Any]:
    return _row(post, _POST)


def report_data(report: Report) -> dict[str, Any]:
    """The report as JSON-ready data, with exactly the documented keys."""
    return {
        "report_version": REPORT_VERSION,
        "generated_at": _json_value(report.generated_at),
        "since": _json_value(report.since),
        "until": _json_value(report.until),
        "timezone": report.timezone,
        "filters": {
            "accounts": list(report.accounts_filter),
            "platforms": list(report.platforms_filter),
        },
        "posts": [_post(p) for p in report.posts],
        "top_posts": [{"rank": r.rank, **_post(r.post)} for r in report.top_posts],
        "bottom_posts": [{"rank": r.rank, **_post(r.post)} for r in report.bottom_posts],
        "accounts": [_row(a, COLUMNS["accounts"]) for a in report.accounts],
        "followers": [_row(f, COLUMNS["followers"]) for f in report.followers],
        "community": [_row(w, COLUMNS["community"]) for w in report.community],
        "when_to_post": [
            {
                **_row(t, COLUMNS["when_to_post_status"]),
                "cells": [_row(c, COLUMNS["when_to_post"][1:]) for c in t.cells],
            }
            for t in report.when_to_post
        ],
        "responses": [_row(r, COLUMNS["responses"]) for r in report.responses],
    }


#: One encoder for every item: ``json.dumps(..., ensure_ascii=False)`` builds a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False)


def _compact(value: Any) -> str:
    return _ENCODER.encode(value)


def to_json(report: Report) -> str:
    """The report as one JSON object (see ``docs/report-formats.md``): one key per line,
    one list item per line (``indent=`` would switch json to its slow pure-Python encoder)."""
    data = report_data(report)
    keys = []
    for key, value in data.items():
        if isinstance(value, list) and value:
            items = ",\n    ".join(_compact(item) for item in value)
            keys.append(f"  {_compact(key)}: [\n    {items}\n  ]")
        else:
            keys.append(f"  {_compact(key)}: {_compact(value)}")
    return "{\n" + ",\n".join(keys) + "\n}\n"
