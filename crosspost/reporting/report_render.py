"""Output of ``crosspost report``: rich tables, CSV, JSON and a self-contained HTML page.

The CSV columns and JSON keys are a stable, documented interface
(``docs/report-formats.md``); :data:`COLUMNS` is the single list of them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from crosspost.reporting.report import PostFigures, Report
from crosspost.reporting.report_charts import (
    WEEKDAYS,
    followers_chart,
    heatmaps,
    local_time,
    post_link,
    reactions_chart,
    report_zone,
)

__all__ = [
    "COLUMNS",
    "DEFAULT_POSTS_SHOWN",
    "REPORT_VERSION",
    "WEEKDAYS",
    "format_number",
    "most_reacted",
    "posts_heading",
    "print_report",
    "report_data",
    "to_csv",
    "to_html",
    "to_json",
    "write_csv_dir",
]

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


# --------------------------------------------------------------------------- values


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


# --------------------------------------------------------------------------- CSV


def _sections(report: Report) -> dict[str, list[dict[str, Any]]]:
    data = report_data(report)
    meta = {k: data[k] for k in ("report_version", "generated_at", "since", "until", "timezone")}
    meta["accounts"] = ",".join(data["filters"]["accounts"])
    meta["platforms"] = ",".join(data["filters"]["platforms"])
    times = data["when_to_post"]
    return {
        "meta": [{"key": k, "value": v} for k, v in meta.items()],
        **{name: data[name] for name in ("posts", "top_posts", "bottom_posts", "accounts")},
        "followers": data["followers"],
        "community": data["community"],
        "when_to_post": [{"platform": t["platform"], **c} for t in times for c in t["cells"]],
        "when_to_post_status": [
            {k: _cell(t[k]) for k in COLUMNS["when_to_post_status"]} for t in times
        ],
        "responses": data["responses"],
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _write(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], target: Any) -> None:
    """The csv module writes None as an empty cell and numbers as ``str`` does, so only the
    booleans need :func:`_cell` (``_sections`` converts them) and each value is passed as is."""
    writer = csv.writer(target, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([row.get(name) for name in columns] for row in rows)


def _all_columns() -> list[str]:
    names = ["section"]
    for columns in COLUMNS.values():
        names += [c for c in columns if c not in names]
    return names


def to_csv(report: Report) -> str:
    """Every section in one CSV: a ``section`` column, then the union of all columns."""
    buffer = io.StringIO()
    rows = [
        {"section": name, **row} for name, section in _sections(report).items() for row in section
    ]
    _write(rows, _all_columns(), buffer)
    return buffer.getvalue()


def write_csv_dir(report: Report, folder: Path) -> list[Path]:
    """One ``<section>.csv`` per section in ``folder`` (created if missing); the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, rows in _sections(report).items():
        path = folder / f"{name}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            _write(rows, COLUMNS[name], handle)
        written.append(path)
    return written


# --------------------------------------------------------------------------- display

#: Posts listed per table in the terminal and the HTML page (CSV and JSON keep all).
DEFAULT_POSTS_SHOWN = 20


def format_number(value: Any, kind: str = "int") -> str:
    """How the table and the HTML page show a figure: ``int``, ``pct``, ``rate``, ``float``,
    ``signed`` or ``hours``."""
    if value is None:
        return "–"
    if kind == "pct":
        return f"{value * 100:.2f}%"
    if kind == "rate":
        return f"{value:.2f}/h"
    if kind == "float":
        return f"{value:,.2f}"
    if kind == "signed":
        return f"{value:+,}"
    if kind == "hours":
        return f"{value:,.1f} h"
    return f"{value:,}"


def _post_view(zone_name: str) -> tuple[tuple[str, str, str], ...]:
    return (
        (f"published ({zone_name})", "published_at", "time"),
        ("account", "account", "text"),
        ("post", "title", "link"),
        ("likes", "likes", "int"),
        ("reposts", "reposts", "int"),
        ("replies", "replies", "int"),
        ("quotes", "quotes", "int"),
        ("views", "views", "int"),
        ("reactions", "reactions", "int"),
        ("engagement", "engagement_rate", "pct"),
        ("24 h velocity", "velocity_24h", "rate"),
        ("conversions", "conversions", "int"),
    )


_ACCOUNT_VIEW = (
    ("account", "account", "text"),
    ("platform", "platform", "text"),
    ("followers at start", "followers_start", "int"),
    ("followers at end", "followers_end", "int"),
    ("net growth", "net_growth", "signed"),
    ("joins", "joins", "int"),
    ("leaves", "leaves", "int"),
    ("churn", "churn_rate", "pct"),
    ("posts", "posts_published", "int"),
    ("reactions/post", "reactions_per_post", "float"),
    ("conversions", "conversions", "int"),
)
_RESPONSE_VIEW = (
    ("account", "account", "text"),
    ("platform", "platform", "text"),
    ("received", "received", "int"),
    ("answered", "answered", "int"),
    ("answer rate", "answer_rate", "pct"),
    ("median first answer", "median_response_hours", "hours"),
    ("questions", "questions", "int"),
    ("waiting > 1 day", "unanswered_questions", "int"),
)
_WEEK_VIEW = (
    ("week", "week", "text"),
    ("mentions", "mentions", "int"),
    ("replies", "replies", "int"),
    ("other", "other", "int"),
    ("total", "total", "int"),
    ("members", "distinct_authors", "int"),
    ("growth", "growth", "pct"),
)


def _shown(value: Any, kind: str, zone: tzinfo) -> str:
    if kind in ("text", "link"):
        return "" if value is None else str(value)
    if kind == "time":
        return local_time(value, zone)
    return format_number(value, kind)


def most_reacted(report: Report, limit: int) -> list[PostFigures]:
    """The ``limit`` posts with the most reactions (then the newest); unmeasured ones last."""
    ranked = sorted(
        report.posts,
        key=lambda p: (p.reactions is None, -(p.reactions or 0), -p.published_at.timestamp()),
    )
    return ranked[:limit]


def posts_heading(report: Report, limit: int) -> str:
    """``Posts (20 of 10,000 with the most reactions; CSV and JSON list all)``."""
    total = len(report.posts)
    if total <= limit:
        return f"Posts ({total:,})"
    return f"Posts ({limit:,} of {total:,} with the most reactions; CSV and JSON list all)"


def _cell_text(row: Any, name: str, kind: str, zone: tzinfo) -> Text | str:
    shown = _shown(getattr(row, name), kind, zone)
    url = post_link(getattr(row, "url", None)) if kind == "link" else None
    return Text(shown, style=f"link {url}") if url else shown


def _table(
    title: str,
    view: Sequence[tuple[str, str, str]],
    rows: Sequence[Any],
    zone: tzinfo,
    plain: bool = False,
) -> Table:
    # no borders for plain; long cells fold onto more lines instead of becoming "fol…"
    table = Table(title=title, title_justify="left", box=None if plain else box.HEAVY_HEAD)
    for label, _, kind in view:
        table.add_column(label, justify="left" if kind in _TEXT_KINDS else "right", overflow="fold")
    for row in rows:
        table.add_row(*(_cell_text(row, name, kind, zone) for _, name, kind in view))
    return table


_TEXT_KINDS = ("text", "time", "link")


def _best_slots(report: Report, console: Console) -> None:
    for times in report.when_to_post:
        if not times.enough_data:
            console.print(f"When to post on {times.platform}: {times.message}", markup=False)
        else:
            console.print(
                f"When to post on {times.platform} ({times.message}, hours in "
                f"{report.timezone}): {times.advice}",
                markup=False,
            )


def print_report(
    report: Report, console: Console, posts: int = DEFAULT_POSTS_SHOWN, plain: bool = False
) -> None:
    """Print the report as rich tables, times in the report's zone; ``posts`` rows of posts.

    ``plain`` prints the same tables without borders (for pipes and narrow terminals).
    """
    zone = report_zone(report)
    view = _post_view(report.timezone)
    console.print(
        f"Report {local_time(report.since, zone)} – {local_time(report.until, zone)} "
        f"{report.timezone}",
        markup=False,
    )
    sections: list[tuple[str, Sequence[tuple[str, str, str]], Sequence[Any]]] = [
        ("Accounts", _ACCOUNT_VIEW, report.accounts),
        ("Top posts", view, [r.post for r in report.top_posts]),
        ("Bottom posts", view, [r.post for r in report.bottom_posts]),
        (posts_heading(report, posts), view, most_reacted(report, posts)),
        ("Member-written content per week", _WEEK_VIEW, report.community),
        ("Answering members", _RESPONSE_VIEW, report.responses),
    ]
    for title, columns, rows in sections:
        console.print(_table(title, columns, rows, zone, plain))
    _best_slots(report, console)


# --------------------------------------------------------------------------- HTML


@dataclass(frozen=True)
class _View:
    """A table for the template: headings and cells (field, kind, text, link) per row."""

    headings: tuple[tuple[str, str, str], ...]
    rows: list[list[tuple[str, str, str, str | None]]]


def _view(view: Sequence[tuple[str, str, str]], rows: Sequence[Any], zone: tzinfo) -> _View:
    cells = [
        [
            (
                name,
                kind,
                _shown(getattr(row, name), kind, zone),
                post_link(getattr(row, "url", None)) if kind == "link" else None,
            )
            for _, name, kind in view
        ]
        for row in rows
    ]
    return _View(tuple(view), cells)


def to_html(report: Report, posts: int = DEFAULT_POSTS_SHOWN) -> str:
    """One self-contained HTML page: inline CSS and SVG, no script, no external fetch
    (links to the posts themselves are plain anchors)."""
    environment = Environment(
        loader=PackageLoader("crosspost.reporting", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    zone = report_zone(report)
    view = _post_view(report.timezone)
    template = environment.get_template("report.html.j2")
    return template.render(
        report=report,
        since=local_time(report.since, zone),
        until=local_time(report.until, zone),
        generated=local_time(report.generated_at, zone),
        accounts=_view(_ACCOUNT_VIEW, report.accounts, zone),
        top=_view(view, [r.post for r in report.top_posts], zone),
        bottom=_view(view, [r.post for r in report.bottom_posts], zone),
        posts=_view(view, most_reacted(report, posts), zone),
        posts_heading=posts_heading(report, posts),
        community=_view(_WEEK_VIEW, report.community, zone),
        responses=_view(_RESPONSE_VIEW, report.responses, zone),
        followers_chart=followers_chart(report),
        reactions_chart=reactions_chart(report),
        heatmaps=heatmaps(report),
        weekdays=WEEKDAYS,
        report_version=REPORT_VERSION,
    )
