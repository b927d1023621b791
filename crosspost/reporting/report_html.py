"""``crosspost report --format html``: one self-contained page from ``templates/``.

The page shows the tables of the terminal (:mod:`crosspost.reporting.report_display`)
and the SVG charts of :mod:`crosspost.reporting.report_charts`, with inline CSS, no
script and no external fetch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from crosspost.reporting.report_charts import (
    followers_chart,
    local_time,
    post_link,
    reactions_chart,
    report_zone,
)
from crosspost.reporting.report_display import (
    ACCOUNT_VIEW,
    DEFAULT_POSTS_SHOWN,
    NO_ACCOUNTS,
    NO_OTHER_POSTS,
    NO_POSTS,
    NO_REACTIONS,
    NOTHING_IN_PERIOD,
    RESPONSE_VIEW,
    WEEK_VIEW,
    display_value,
    most_reacted,
    post_view,
    posts_heading,
)
from crosspost.reporting.report_figures import Report
from crosspost.reporting.report_heatmaps import WEEKDAYS, heatmaps
from crosspost.reporting.report_json import REPORT_VERSION

__all__ = ["to_html"]


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
                display_value(getattr(row, name), kind, zone),
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
    view = post_view(report.timezone)
    template = environment.get_template("report.html.j2")
    return template.render(
        report=report,
        since=local_time(report.since, zone),
        until=local_time(report.until, zone),
        generated=local_time(report.generated_at, zone),
        accounts=_view(ACCOUNT_VIEW, report.accounts, zone),
        top=_view(view, [r.post for r in report.top_posts], zone),
        bottom=_view(view, [r.post for r in report.bottom_posts], zone),
        empty={
            "accounts": NO_ACCOUNTS,
            "top": NO_REACTIONS,
            "bottom": NO_OTHER_POSTS if report.top_posts else "",
            "posts": NO_POSTS,
            "other": NOTHING_IN_PERIOD,
        },
        posts=_view(view, most_reacted(report, posts), zone),
        posts_heading=posts_heading(report, posts),
        community=_view(WEEK_VIEW, report.community, zone),
        responses=_view(RESPONSE_VIEW, report.responses, zone),
        followers_chart=followers_chart(report),
        reactions_chart=reactions_chart(report),
        heatmaps=heatmaps(report),
        weekdays=WEEKDAYS,
        report_version=REPORT_VERSION,
    )
