"""What the terminal tables and the HTML page show of a report, and how.

Both list the same columns (the ``*_VIEW`` tuples: heading, field, kind), the same
page of posts (:func:`most_reacted`) and the same numbers (:func:`format_number`);
:mod:`crosspost.reporting.report_table` draws them with rich, and
:mod:`crosspost.reporting.report_html` with the HTML template. CSV and JSON list
every post and every figure unformatted (:mod:`crosspost.reporting.report_json`).
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from crosspost.reporting.report_charts import local_time
from crosspost.reporting.report_figures import PostFigures, Report

__all__ = [
    "ACCOUNT_VIEW",
    "DEFAULT_POSTS_SHOWN",
    "NOTHING_IN_PERIOD",
    "NO_ACCOUNTS",
    "NO_OTHER_POSTS",
    "NO_POSTS",
    "NO_REACTIONS",
    "RESPONSE_VIEW",
    "WEEK_VIEW",
    "display_value",
    "format_number",
    "most_reacted",
    "post_view",
    "posts_heading",
]

#: Posts listed per table in the terminal and the HTML page (CSV and JSON keep all).
DEFAULT_POSTS_SHOWN = 20

#: What an empty section says, in the terminal and on the HTML page, instead of a table.
NO_REACTIONS = (
    "none yet: no post of the period has reactions collected "
    "(the daemon collects them, or: crosspost collect)"
)
NO_ACCOUNTS = "no account matches"
NO_OTHER_POSTS = "none besides the top posts"
NO_POSTS = "none published in the period"
NOTHING_IN_PERIOD = "nothing in the period"


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


def post_view(zone_name: str) -> tuple[tuple[str, str, str], ...]:
    """The columns of a list of posts: (heading, field, kind), times headed by their zone."""
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


#: The accounts' columns: (heading, field of AccountFigures, kind).
ACCOUNT_VIEW = (
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
#: The columns of the answers to members: (heading, field of ResponseFigures, kind).
RESPONSE_VIEW = (
    ("account", "account", "text"),
    ("platform", "platform", "text"),
    ("received", "received", "int"),
    ("answered", "answered", "int"),
    ("answer rate", "answer_rate", "pct"),
    ("median first answer", "median_response_hours", "hours"),
    ("questions", "questions", "int"),
    ("waiting > 1 day", "unanswered_questions", "int"),
)
#: The community's columns: (heading, field of WeekFigures, kind).
WEEK_VIEW = (
    ("week", "week", "text"),
    ("mentions", "mentions", "int"),
    ("replies", "replies", "int"),
    ("other", "other", "int"),
    ("total", "total", "int"),
    ("members", "distinct_authors", "int"),
    ("growth", "growth", "pct"),
)


def display_value(value: Any, kind: str, zone: tzinfo) -> str:
    """A cell's text: ``text`` and ``link`` as they are, ``time`` in ``zone``, else a number."""
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
