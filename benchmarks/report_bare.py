"""The report benchmark's baseline: every figure of ``crosspost report``, stdlib only.

Run as a script: ``python report_bare.py STORE.db CONFIG.json OUT.json``. CONFIG holds
what crosspost reads from ``schedule.yaml`` (accounts with their platform, the zone,
content titles, accounts whose platform lists followers) and the report's options
(period as SQLite text, top, min_posts, min_slot_posts). OUT gets the sections of
``crosspost report --format json`` (times as ``datetime`` text, floats unrounded);
``tests/test_report_bench.py`` checks that they are the same figures.

It reads each table once with ``sqlite3`` and works in plain Python (no ORM, no
aggregation in SQL, no rendering), importing only the standard library.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
import statistics
import sys
from bisect import bisect_right
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

_POST = "status = 'published' AND published_at IS NOT NULL AND account IN ({})"
_NOT_PARTS = (
    " AND entry NOT LIKE 'notify:%' AND entry NOT LIKE 'reply:%' AND entry NOT LIKE 'comment:%'"
)
_DAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")
_NOISE = re.compile(
    r"(?:@[\w.-]+(?:@[\w.-]+)?[,:]?|<[@#][!&]?\w+>|<?https?://\S+|#[\w-]+)", re.IGNORECASE
)
_POST_KEYS = (
    "publication_id account platform entry content published_at url likes reposts replies"
    " quotes views bookmarks reactions followers_at_publish engagement_rate velocity_24h"
    " conversions clicks conversion_value title"
).split()
_FOLLOWER_KEYS = ("account", "platform", "collected_at", "followers")
_CELL_KEYS = ("weekday", "hour", "posts", "median_reactions", "ratio", "ratio_low", "ratio_high")
_ASKS = re.compile(r"[?？‽][?？‽!！\"'”’»)\]]*$")


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _marks(names: list[str]) -> str:
    return ",".join("?" * len(names))


def _posts(con: sqlite3.Connection, c: dict[str, Any]) -> list[dict[str, Any]]:
    names, since, until = c["names"], c["since"], c["until"]
    where = _POST.format(_marks(names)) + _NOT_PARTS + " AND published_at >= ? AND published_at < ?"
    rows = con.execute(
        f"SELECT id, entry, content_id, account, published_at, url FROM publication WHERE {where} "
        "ORDER BY published_at, id",
        (*names, since, until),
    ).fetchall()
    latest, early, parse, day = {}, {}, datetime.fromisoformat, timedelta(hours=24)
    for row in con.execute(
        "SELECT s.publication_id, s.collected_at, s.likes, s.reposts, s.replies, s.quotes,"
        " s.views, s.bookmarks, p.published_at FROM metric_snapshot s JOIN publication p"
        f" ON p.id = s.publication_id WHERE {where.replace('published_at', 'p.published_at')}"
        " ORDER BY s.publication_id, s.collected_at, s.id",
        (*names, since, until),
    ):
        latest[row[0]] = row
        at, published = parse(row[1]), parse(row[8])  # both naive UTC: compared, not shown
        if published < at <= published + day:
            early[row[0]] = ((at - published).total_seconds() / 3600, row)
    totals = _conversions(con, sorted({r[1] for r in rows}))
    return [
        _post(c, (pid, e, content, a, _at(at), url), latest.get(pid), early.get(pid), totals)
        for pid, e, content, a, at, url in rows
    ]


def _post(
    c: dict[str, Any], post: tuple[Any, ...], row: Any, early: Any, totals: dict[Any, list[Any]]
) -> dict[str, Any]:
    pid, entry, content, account, published, url = post
    platform = c["accounts"][account]
    total = sum(n or 0 for n in row[2:6]) if row else None
    times, points = c["series"].get(account, ([], []))
    i = bisect_right(times, published)
    audience = points[i - 1] if i else None
    velocity = sum(n or 0 for n in early[1][2:6]) / early[0] if early else None
    own = totals.get((entry, content, platform), [0, None, None])
    untagged = totals.get((entry, content, ""), [0, None, None])
    both = [own[0] + untagged[0]] + [
        None if a is None and b is None else (a or 0) + (b or 0)
        for a, b in zip(own[1:], untagged[1:], strict=True)
    ]
    counts = tuple(row[2:8]) if row else (None,) * 6
    rate = total / audience if total is not None and audience else None
    title = c["titles"].get(content) or content
    values = (pid, account, platform, entry, content, published, url, *counts, total, audience)
    return dict(zip(_POST_KEYS, (*values, rate, velocity, *both, title), strict=True))


def _conversions(con: sqlite3.Connection, campaigns: list[str]) -> dict[Any, list[Any]]:
    totals: dict[Any, list[Any]] = {}
    for start in range(0, len(campaigns), 500):
        chunk = campaigns[start : start + 500]
        for campaign, content, source, number, clicks, value in con.execute(
            "SELECT campaign, content, source, conversions, clicks, value FROM conversion"
            f" WHERE campaign IN ({_marks(chunk)})",
            chunk,
        ):
            old = totals.setdefault((campaign, content, source), [0, None, None])
            old[0] += number
            for k, add in ((1, clicks), (2, value)):
                old[k] = None if old[k] is None and add is None else (old[k] or 0) + (add or 0)
    return totals


def _series(con: sqlite3.Connection, c: dict[str, Any]) -> dict[str, Any]:
    """Follower points per account: the latest before ``since``, then those of the period."""
    names, since, until = c["names"], c["since"], c["until"]
    found: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    base = f"FROM account_snapshot WHERE followers IS NOT NULL AND account IN ({_marks(names)})"
    for account in names:
        row = con.execute(
            f"SELECT collected_at, followers {base} AND account = ? AND collected_at < ?"
            " ORDER BY collected_at DESC, id DESC LIMIT 1",
            (*names, account, since),
        ).fetchone()
        if row:
            found[account].append((_at(row[0]), row[1]))
    for account, at, followers in con.execute(
        f"SELECT account, collected_at, followers {base} AND collected_at >= ?"
        " AND collected_at < ? ORDER BY collected_at, id",
        (*names, since, until),
    ):
        found[account].append((_at(at), followers))
    return {a: ([t for t, _ in p], [n for _, n in p]) for a, p in found.items()}


def _accounts(con: sqlite3.Connection, c: dict[str, Any], posts: list[Any]) -> list[Any]:
    since = _at(c["since"])
    events: dict[tuple[str, str], int] = {}
    names = c["names"]
    for account, kind, number in con.execute(
        f"SELECT account, kind, count(*) FROM follower_event WHERE account IN ({_marks(names)})"
        " AND observed_at >= ? AND observed_at < ? GROUP BY account, kind",
        (*names, c["since"], c["until"]),
    ):
        events[(account, kind)] = number
    figures = []
    for name in names:
        times, points = c["series"].get(name, ([], []))
        i = bisect_right(times, since)
        start = points[i - 1] if i else next((p for p in points), None)
        end = points[-1] if points else None
        exact = name in c["exact"]
        joins = events.get((name, "join"), 0) if exact else None
        leaves = events.get((name, "leave"), 0) if exact else None
        own = [p for p in posts if p["account"] == name]
        measured = [p["reactions"] for p in own if p["reactions"] is not None]
        figures.append(
            {
                "account": name,
                "platform": c["accounts"][name],
                "followers_start": start,
                "followers_end": end,
                "net_growth": end - start if start is not None and end is not None else None,
                "joins": joins,
                "leaves": leaves,
                "churn_rate": leaves / start if leaves is not None and start else None,
                "posts_published": len(own),
                "reactions": sum(measured),
                "reactions_per_post": sum(measured) / len(measured) if measured else None,
                "conversions": sum(p["conversions"] for p in own),
            }
        )
    return figures


def _followers(c: dict[str, Any]) -> list[dict[str, Any]]:
    since, rows = _at(c["since"]), []
    for account, (times, points) in sorted(c["series"].items()):
        start = max(bisect_right(times, since) - 1, 0)
        for at, number in zip(times[start:], points[start:], strict=True):
            values = (account, c["accounts"][account], at, number)
            rows.append(dict(zip(_FOLLOWER_KEYS, values, strict=True)))
    return rows


def _community(con: sqlite3.Connection, c: dict[str, Any], zone: ZoneInfo) -> list[Any]:
    names = c["names"]
    weeks: dict[Any, list[tuple[str, str, str]]] = defaultdict(list)

    def monday(at: datetime) -> date:
        return (d := at.astimezone(zone).date()) - timedelta(days=d.weekday())

    for kind, platform, author, at in con.execute(
        f"SELECT kind, platform, author, created_at FROM interaction WHERE account IN"
        f" ({_marks(names)}) AND created_at >= ? AND created_at < ?",
        (*names, c["since"], c["until"]),
    ):
        weeks[monday(_at(at))].append((kind, platform, author))
    day = monday(_at(c["since"]))
    last = monday(_at(c["until"]) - timedelta(microseconds=1))
    rows, previous = [], None
    while day <= last:
        items = weeks.get(day, [])
        mentions = sum(1 for k, _, _ in items if k == "mention")
        replies = sum(1 for k, _, _ in items if k == "reply")
        year, number, _ = day.isocalendar()
        rows.append(
            {
                "week": f"{year}-W{number:02d}",
                "week_start": day,
                "mentions": mentions,
                "replies": replies,
                "other": len(items) - mentions - replies,
                "total": len(items),
                "distinct_authors": len({(p, a) for _, p, a in items}),
                "growth": (len(items) - previous) / previous if previous else None,
            }
        )
        previous, day = len(items), day + timedelta(days=7)
    return rows


def _median_range(values: list[int]) -> tuple[int, int]:
    n, k, below = len(values), 1, 0.0
    while k < (n + 1) // 2:
        below += math.comb(n, k - 1) / 2**n
        if below + math.comb(n, k) / 2**n > 0.025:
            break
        k += 1
    return values[k - 1], values[n - k]


def _statement(cell: dict[str, Any]) -> str:
    hour = cell["hour"]
    when = f"{_DAYS[cell['weekday'] - 1]} {hour:02d}:00–{(hour + 1) % 24:02d}:00"
    if cell["ratio"] is None:
        return f"{when}: median {cell['median_reactions']:g} reactions, {cell['posts']} posts"
    kind = "95 % range" if cell["posts"] >= 6 else "range"
    return (
        f"{when} got {cell['ratio']:.1f}× the median reactions ({kind} "
        f"{cell['ratio_low']:.1f}–{cell['ratio_high']:.1f}×), {cell['posts']} posts"
    )


def _times(c: dict[str, Any], platform: str, measured: list[Any], zone: ZoneInfo) -> dict[str, Any]:
    status = {
        "platform": platform,
        "posts": len(measured),
        "enough_data": False,
        "advice": "",
        "message": f"not enough data yet ({len(measured)} posts)",
        "cells": [],
    }
    if len(measured) < c["min_posts"]:
        return status
    slots = defaultdict(list)
    for at, total in measured:
        local = at.astimezone(zone)
        slots[(local.isoweekday(), local.hour)].append(total)
    overall = float(statistics.median(t for _, t in measured))
    cells = []
    for (day, hour), values in sorted(slots.items()):
        if len(values) < c["min_slot_posts"]:
            continue
        values.sort()
        median = float(statistics.median(values))
        low, high = _median_range(values)
        ratios = [r / overall if overall else None for r in (median, low, high)]
        cells.append(dict(zip(_CELL_KEYS, (day, hour, len(values), median, *ratios), strict=True)))
    if not cells:
        status["message"] = (
            f"not enough data yet ({len(measured)} posts, but no weekday × "
            f"hour with {c['min_slot_posts']} or more)"
        )
        return status
    ranked = sorted(cells, key=lambda x: (-(x["ratio"] or 0), -x["median_reactions"], -x["posts"]))
    better = [x for x in ranked if x["ratio"] is None or x["ratio"] > 1][:3]
    advice = "; ".join(_statement(x) for x in better)
    return {
        **status,
        "enough_data": True,
        "message": f"{len(measured)} posts",
        "cells": cells,
        "advice": advice or "no weekday × hour did better than the median yet",
    }


def _is_question(text: str, raw: str | None) -> bool:
    data = json.loads(raw) if raw else None
    if isinstance(data, dict) and data.get("question") is True:
        return True
    words = text.split()
    while words and _NOISE.fullmatch(words[-1]):
        words.pop()
    return bool(words) and _ASKS.search(words[-1]) is not None


def _responses(con: sqlite3.Connection, c: dict[str, Any]) -> list[dict[str, Any]]:
    names, until = c["names"], _at(c["until"])
    answers = {}
    for entry, at in con.execute(
        "SELECT entry, min(published_at) FROM publication WHERE entry LIKE 'reply:%' AND "
        + _POST.format(_marks(names))
        + " GROUP BY entry",
        names,
    ):
        if entry[6:].isdigit():
            answers[int(entry[6:])] = _at(at)
    items = defaultdict(list)
    for iid, account, text, raw, created, answered in con.execute(
        "SELECT id, account, text, raw, created_at, answered_at FROM interaction WHERE account"
        f" IN ({_marks(names)}) AND created_at >= ? AND created_at < ?",
        (*names, c["since"], c["until"]),
    ):
        first = [t for t in (answered and _at(answered), answers.get(iid)) if t]
        items[account].append(
            (_at(created), min(first) if first else None, _is_question(text or "", raw))
        )
    rows = []
    for name in names:
        got = items.get(name, [])
        delays = [(a - t).total_seconds() / 3600 for t, a, _ in got if a is not None and a < until]
        asked = [(t, a) for t, a, q in got if q]
        waiting = [1 for t, a in asked if (a is None or a >= until) and until - t > timedelta(1)]
        rows.append(
            {
                "account": name,
                "platform": c["accounts"][name],
                "received": len(got),
                "answered": len(delays),
                "answer_rate": len(delays) / len(got) if got else None,
                "median_response_hours": statistics.median(max(d, 0.0) for d in delays)
                if delays
                else None,
                "questions": len(asked),
                "unanswered_questions": len(waiting),
            }
        )
    return rows


def _ranked(posts: list[dict[str, Any]], top: int) -> tuple[list[Any], list[Any]]:
    measured = [p for p in posts if p["reactions"] is not None]
    best = sorted(measured, key=lambda p: (-p["reactions"], p["published_at"]))[:top]
    chosen = {p["publication_id"] for p in best}
    rest = [p for p in measured if p["publication_id"] not in chosen]
    worst = sorted(rest, key=lambda p: (p["reactions"], p["published_at"]))[:top]
    return (
        [{"rank": i, **p} for i, p in enumerate(best, 1)],
        [{"rank": i, **p} for i, p in enumerate(worst, 1)],
    )


def figures(database: str, config: dict[str, Any]) -> dict[str, Any]:
    """Every section of the report, computed from the SQLite file ``database``."""
    c = {**config, "names": sorted(config["accounts"])}
    zone = ZoneInfo(c["timezone"])
    con = sqlite3.connect(database)
    c["series"] = _series(con, c)
    posts = _posts(con, c)
    top, bottom = _ranked(posts, c["top"])
    measured: dict[str, list[Any]] = {p: [] for p in c["accounts"].values()}
    for post in posts:
        if post["reactions"] is not None:
            measured[post["platform"]].append((post["published_at"], post["reactions"]))
    return {
        "posts": posts,
        "top_posts": top,
        "bottom_posts": bottom,
        "accounts": _accounts(con, c, posts),
        "followers": _followers(c),
        "community": _community(con, c, zone),
        "when_to_post": [_times(c, p, m, zone) for p, m in sorted(measured.items())],
        "responses": _responses(con, c),
    }


def main(argv: list[str]) -> None:
    """``STORE.db CONFIG.json OUT.json``: the figures, written as JSON."""
    database, config, out = argv
    with open(config, encoding="utf-8") as handle:
        found = figures(database, json.load(handle))
    with open(out, "w", encoding="utf-8") as handle:
        # dumps, not dump: dump streams through the pure-Python encoder, 3x slower
        handle.write(json.dumps(found, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
