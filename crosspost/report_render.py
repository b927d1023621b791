"""Output of ``crosspost report``: rich tables, CSV, JSON and a self-contained HTML page.

The CSV columns and JSON keys are a stable, documented interface
(``docs/report-formats.md``); :data:`COLUMNS` is the single list of them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from rich.console import Console
from rich.table import Table

from crosspost.report import PostFigures, Report

__all__ = [
    "COLUMNS",
    "REPORT_VERSION",
    "WEEKDAYS",
    "format_number",
    "print_report",
    "report_data",
    "to_csv",
    "to_html",
    "to_json",
    "write_csv_dir",
]

#: Bumped only when a documented column or key changes meaning or goes away.
REPORT_VERSION = 1
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

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
    "when_to_post": ("platform", "weekday", "hour", "posts", "median_reactions"),
    "when_to_post_status": ("platform", "posts", "enough_data", "message"),
}


# --------------------------------------------------------------------------- values


def _json_value(value: Any) -> Any:
    """Times as ISO 8601 UTC with ``Z``, dates as ``YYYY-MM-DD``, floats rounded to 6 places."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 6)
    return value


def _row(values: Mapping[str, Any], columns: Sequence[str]) -> dict[str, Any]:
    return {name: _json_value(values[name]) for name in columns}


def _post(post: PostFigures) -> dict[str, Any]:
    return _row(asdict(post), _POST)


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
        "accounts": [_row(asdict(a), COLUMNS["accounts"]) for a in report.accounts],
        "followers": [_row(asdict(f), COLUMNS["followers"]) for f in report.followers],
        "community": [_row(asdict(w), COLUMNS["community"]) for w in report.community],
        "when_to_post": [
            {
                **_row(asdict(t), COLUMNS["when_to_post_status"]),
                "cells": [_row(asdict(c), COLUMNS["when_to_post"][1:]) for c in t.cells],
            }
            for t in report.when_to_post
        ],
    }


def to_json(report: Report) -> str:
    """The report as one JSON object (see ``docs/report-formats.md``)."""
    return json.dumps(report_data(report), ensure_ascii=False, indent=2) + "\n"


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
        "when_to_post_status": [{k: t[k] for k in COLUMNS["when_to_post_status"]} for t in times],
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _write(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], target: Any) -> None:
    writer = csv.writer(target, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(name)) for name in columns])


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


def format_number(value: Any, kind: str = "int") -> str:
    """How the table and the HTML page show a figure: ``int``, ``pct``, ``rate`` or ``float``."""
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
    return f"{value:,}"


def _local(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


_POST_VIEW = (
    ("published (UTC)", "published_at", "time"),
    ("account", "account", "text"),
    ("content", "content", "text"),
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
_WEEK_VIEW = (
    ("week", "week", "text"),
    ("mentions", "mentions", "int"),
    ("replies", "replies", "int"),
    ("other", "other", "int"),
    ("total", "total", "int"),
    ("members", "distinct_authors", "int"),
    ("growth", "growth", "pct"),
)


def _shown(value: Any, kind: str) -> str:
    if kind == "text":
        return "" if value is None else str(value)
    if kind == "time":
        return _local(value)
    return format_number(value, kind)


def _table(title: str, view: Sequence[tuple[str, str, str]], rows: Sequence[Any]) -> Table:
    table = Table(title=title, title_justify="left")
    for label, _, kind in view:
        table.add_column(label, justify="left" if kind in ("text", "time") else "right")
    for row in rows:
        table.add_row(*(_shown(getattr(row, name), kind) for _, name, kind in view))
    return table


def _best_slots(report: Report, console: Console) -> None:
    for times in report.when_to_post:
        if not times.enough_data:
            console.print(f"When to post on {times.platform}: {times.message}")
            continue
        best = sorted(times.cells, key=lambda c: (-c.median_reactions, c.weekday, c.hour))[:5]
        slots = ", ".join(
            f"{WEEKDAYS[c.weekday - 1]} {c.hour:02d}:00 ({c.median_reactions:g})" for c in best
        )
        console.print(f"When to post on {times.platform} ({times.message}): {slots}")


def print_report(report: Report, console: Console) -> None:
    """Print the report as rich tables."""
    console.print(
        f"Report {_local(report.since)} – {_local(report.until)} UTC "
        f"(weeks and hours in {report.timezone})"
    )
    console.print(_table("Accounts", _ACCOUNT_VIEW, report.accounts))
    console.print(_table("Top posts", _POST_VIEW, [r.post for r in report.top_posts]))
    console.print(_table("Bottom posts", _POST_VIEW, [r.post for r in report.bottom_posts]))
    console.print(_table("All posts", _POST_VIEW, report.posts))
    console.print(_table("Member-written content per week", _WEEK_VIEW, report.community))
    _best_slots(report, console)


# --------------------------------------------------------------------------- SVG charts

#: Okabe–Ito colours: told apart by colour-blind readers and in greyscale print.
_PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
_W, _H, _LEFT, _RIGHT, _TOP, _BOTTOM = 760, 260, 64, 16, 16, 36


@dataclass(frozen=True)
class _Line:
    label: str
    color: str
    points: str
    dots: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class _Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    title: str


@dataclass(frozen=True)
class _Chart:
    width: int
    height: int
    lines: tuple[_Line, ...] = ()
    bars: tuple[_Bar, ...] = ()
    y_ticks: tuple[tuple[float, str], ...] = ()
    x_ticks: tuple[tuple[float, str], ...] = ()
    legend: tuple[tuple[str, str], ...] = ()


def _scale(low: float, high: float, start: float, end: float) -> Any:
    span = (high - low) or 1.0
    return lambda value: round(start + (value - low) / span * (end - start), 2)


def _y_ticks(low: float, high: float, y: Any, kind: str = "int") -> tuple[tuple[float, str], ...]:
    steps = 4
    values = [low + (high - low) * i / steps for i in range(steps + 1)]
    return tuple((y(v), format_number(round(v), kind)) for v in values)


def _x_ticks(report: Report, x: Any) -> tuple[tuple[float, str], ...]:
    start, end = report.since.timestamp(), report.until.timestamp()
    moments = [start + (end - start) * i / 4 for i in range(5)]
    return tuple((x(m), datetime.fromtimestamp(m, UTC).strftime("%b %d")) for m in moments)


def _followers_chart(report: Report) -> _Chart | None:
    by_account: dict[str, list[tuple[float, int]]] = {}
    for sample in report.followers:
        moment = max(sample.collected_at, report.since).timestamp()
        by_account.setdefault(sample.account, []).append((moment, sample.followers))
    if not by_account:
        return None
    values = [v for points in by_account.values() for _, v in points]
    low, high = min(values) * 0.95, max(values) * 1.05 or 1.0
    x = _scale(report.since.timestamp(), report.until.timestamp(), _LEFT, _W - _RIGHT)
    y = _scale(low, high, _H - _BOTTOM, _TOP)
    lines = []
    for index, (account, points) in enumerate(sorted(by_account.items())):
        dots = tuple((x(t), y(v)) for t, v in points)
        # A flat line to the period's end: the count holds until the next snapshot.
        dots += ((x(report.until.timestamp()), dots[-1][1]),)
        text = " ".join(f"{a},{b}" for a, b in dots)
        lines.append(_Line(account, _PALETTE[index % len(_PALETTE)], text, dots[:-1]))
    legend = tuple((line.label, line.color) for line in lines)
    return _Chart(
        _W,
        _H,
        lines=tuple(lines),
        y_ticks=_y_ticks(low, high, y),
        x_ticks=_x_ticks(report, x),
        legend=legend,
    )


def _reactions_chart(report: Report) -> _Chart | None:
    posts = [p for p in report.posts if p.reactions is not None]
    if not posts:
        return None
    high = max(p.reactions or 0 for p in posts) or 1
    y = _scale(0, high, _H - _BOTTOM, _TOP)
    slot = (_W - _LEFT - _RIGHT) / len(posts)
    colors = {
        name: _PALETTE[i % len(_PALETTE)]
        for i, name in enumerate(sorted({p.platform for p in posts}))
    }
    bars = tuple(
        _Bar(
            round(_LEFT + i * slot + slot * 0.1, 2),
            y(p.reactions or 0),
            round(slot * 0.8, 2),
            max(round(_H - _BOTTOM - y(p.reactions or 0), 2), 1.0),
            colors[p.platform],
            f"{p.content} on {p.account}, {_local(p.published_at)} UTC: {p.reactions} reactions",
        )
        for i, p in enumerate(posts)
    )
    return _Chart(
        _W, _H, bars=bars, y_ticks=_y_ticks(0, high, y), legend=tuple(sorted(colors.items()))
    )


@dataclass(frozen=True)
class _Heatmap:
    platform: str
    message: str
    cells: tuple[_Bar, ...]


def _heatmaps(report: Report) -> list[_Heatmap]:
    maps = []
    for times in report.when_to_post:
        high = max((c.median_reactions for c in times.cells), default=0) or 1.0
        cells = tuple(
            _Bar(
                _LEFT + c.hour * 28,
                8 + (c.weekday - 1) * 28,
                26,
                26,
                f"rgba(0, 114, 178, {0.15 + 0.85 * c.median_reactions / high:.2f})",
                f"{WEEKDAYS[c.weekday - 1]} {c.hour:02d}:00: median {c.median_reactions:g} "
                f"reactions over {c.posts} posts",
            )
            for c in times.cells
        )
        maps.append(_Heatmap(times.platform, times.message, cells))
    return maps


# --------------------------------------------------------------------------- HTML


@dataclass(frozen=True)
class _View:
    """A table for the template: headings and already formatted cells keyed by field."""

    headings: tuple[tuple[str, str, str], ...]
    rows: list[list[tuple[str, str, str]]]


def _view(view: Sequence[tuple[str, str, str]], rows: Sequence[Any]) -> _View:
    cells = [
        [(name, kind, _shown(getattr(row, name), kind)) for _, name, kind in view] for row in rows
    ]
    return _View(tuple(view), cells)


def to_html(report: Report) -> str:
    """One self-contained HTML page: inline CSS and SVG, no script, no external fetch."""
    environment = Environment(
        loader=PackageLoader("crosspost", "report_templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    template = environment.get_template("report.html.j2")
    return template.render(
        report=report,
        since=_local(report.since),
        until=_local(report.until),
        generated=_local(report.generated_at),
        accounts=_view(_ACCOUNT_VIEW, report.accounts),
        top=_view(_POST_VIEW, [r.post for r in report.top_posts]),
        bottom=_view(_POST_VIEW, [r.post for r in report.bottom_posts]),
        posts=_view(_POST_VIEW, report.posts),
        community=_view(_WEEK_VIEW, report.community),
        followers_chart=_followers_chart(report),
        reactions_chart=_reactions_chart(report),
        heatmaps=_heatmaps(report),
        weekdays=WEEKDAYS,
        report_version=REPORT_VERSION,
    )
