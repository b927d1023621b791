"""``crosspost report`` on 10,000 publications and 70,000 snapshots, against a bare script.

Run from the repository root::

    .venv/bin/python -m benchmarks.report_bench            # 10,000 posts, 7 snapshots each
    .venv/bin/python -m benchmarks.report_bench 2000       # fewer posts

Builds a temporary SQLite store with bulk inserts (4 accounts on 2 platforms, one
account snapshot per hour, member interactions), then times, per format, the whole
``crosspost report`` process (CPU seconds of the child, interpreter start and imports
included) and the report alone inside this process (build + render). The baseline is a
bare stdlib script (``sqlite3`` + ``json``) computing the same figures: per-post latest
reactions, followers at publishing, engagement, first-day velocity, account totals and
weekday × hour medians. Prints figures and ratios; asserts nothing.
"""

from __future__ import annotations

import io
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crosspost.store import Store

FORMATS = ("table", "json", "csv", "html")
ACCOUNTS = {"news": "folder", "archive": "folder", "feed-a": "feed", "feed-b": "feed"}
SNAPSHOTS_PER_POST = 7
_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores datetimes in SQLite

SCHEDULE = """\
timezone: Europe/Kyiv
accounts:
  news: {connector: folder, path: out/news}
  archive: {connector: folder, path: out/archive}
  feed-a: {connector: feed, path: out/a.xml, title: A, link: "https://example.org"}
  feed-b: {connector: feed, path: out/b.xml, title: B, link: "https://example.org"}
content:
%s
"""

#: The baseline: stdlib only, the same figures as ``crosspost report --format json``.
BARE = """
import json, sqlite3, statistics, sys
from bisect import bisect_right
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

db, since, until, out = sys.argv[1:5]
zone = ZoneInfo("Europe/Kyiv")
parse = datetime.fromisoformat
con = sqlite3.connect(db)
posts = con.execute(
    "SELECT id, entry, content_id, account, published_at, url FROM publication "
    "WHERE status = 'published' AND published_at >= ? AND published_at < ? "
    "ORDER BY published_at, id", (since, until)).fetchall()
latest, early = {}, {}
for row in con.execute(
    "SELECT s.publication_id, s.collected_at, s.likes, s.reposts, s.replies, s.quotes, "
    "s.views, s.bookmarks, p.published_at FROM metric_snapshot s "
    "JOIN publication p ON p.id = s.publication_id WHERE p.status = 'published' "
    "AND p.published_at >= ? AND p.published_at < ? "
    "ORDER BY s.publication_id, s.collected_at, s.id", (since, until)):
    latest[row[0]] = row
    at, published = parse(row[1]), parse(row[8])
    if published < at <= published + timedelta(hours=24):
        early[row[0]] = (at, row)
series = defaultdict(list)
for account, at, followers in con.execute(
    "SELECT account, collected_at, followers FROM account_snapshot "
    "WHERE followers IS NOT NULL AND collected_at < ? ORDER BY collected_at, id", (until,)):
    series[account].append((parse(at), followers))
times = {a: [t for t, _ in s] for a, s in series.items()}
reactions = lambda r: sum(n or 0 for n in r[2:6])
figures, slots = [], defaultdict(list)
for pid, entry, content, account, published, url in posts:
    published = parse(published)
    row = latest.get(pid)
    total = reactions(row) if row else None
    i = bisect_right(times.get(account, []), published)
    audience = series[account][i - 1][1] if i else None
    velocity = None
    if pid in early:
        at, snap = early[pid]
        velocity = reactions(snap) / ((at - published).total_seconds() / 3600)
    figures.append({
        "publication_id": pid, "account": account, "entry": entry, "content": content,
        "published_at": published.strftime("%Y-%m-%dT%H:%M:%SZ"), "url": url,
        "likes": row[2] if row else None, "reactions": total,
        "engagement_rate": total / audience if total is not None and audience else None,
        "velocity_24h": velocity})
    if total is not None:
        local = published.replace(tzinfo=timezone.utc).astimezone(zone)
        slots[(account, local.isoweekday(), local.hour)].append(total)
accounts = defaultdict(lambda: [0, 0])
for f in figures:
    accounts[f["account"]][0] += 1
    accounts[f["account"]][1] += f["reactions"] or 0
cells = [{"slot": list(k), "posts": len(v), "median": statistics.median(v)}
         for k, v in sorted(slots.items()) if len(v) >= 5]
with open(out, "w") as handle:
    json.dump({"posts": figures, "accounts": accounts, "cells": cells}, handle)
"""


def _at(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).strftime(_FORMAT)


def build(folder: Path, posts: int, now: datetime) -> tuple[Path, str]:
    """The schedule and a store holding ``posts`` publications in the last 30 days."""
    content = "\n".join(
        f"  - {{id: c{n}, title: 'Post number {n}', body: 'Body {n}'}}" for n in range(50)
    )
    schedule = folder / "schedule.yaml"
    schedule.write_text(SCHEDULE % content, encoding="utf-8")
    path = folder / "bench.db"
    Store(f"sqlite:///{path}").close()  # the schema, through the migrations
    rng = random.Random(17)
    start = now - timedelta(days=29, hours=23)
    names = sorted(ACCOUNTS)
    publications, snapshots = [], []
    for n in range(posts):
        published = start + timedelta(seconds=rng.randrange(29 * 86400))
        publications.append(
            (n + 1, f"e{n % 200}", str(n), names[n % 4], f"c{n % 50}", "published",
             _at(published), _at(published + timedelta(hours=1)), 1, f"r{n}",
             f"https://example.org/p/{n}", _at(published), _at(published), _at(published))
        )  # fmt: skip
        likes = 0
        for step in range(SNAPSHOTS_PER_POST):
            likes += rng.randrange(20)
            at = published + timedelta(hours=3 * 2**step)
            snapshots.append(
                (n + 1, _at(at), likes, likes // 5, likes // 7, likes // 11, likes * 30, 1)
            )
    hours = [start + timedelta(hours=h) for h in range(30 * 24)]
    followers = [(a, _at(h), 1000 + i * 3) for a in names for i, h in enumerate(hours)]
    said = [
        (names[n % 4], "folder", f"i{n}", ("mention", "reply", "quote")[n % 3], f"m{n % 300}",
         _at(start + timedelta(minutes=7 * n)), _at(start + timedelta(minutes=7 * n)))
        for n in range(5000)
    ]  # fmt: skip
    with sqlite3.connect(path) as connection:
        connection.executemany(
            "INSERT INTO publication (id, entry, occurrence, account, content_id, status, due_at,"
            " expires_at, attempts, remote_id, url, published_at, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            publications,
        )
        connection.executemany(
            "INSERT INTO metric_snapshot (publication_id, collected_at, likes, reposts, replies,"
            " quotes, views, bookmarks) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            snapshots,
        )
        connection.executemany(
            "INSERT INTO account_snapshot (account, collected_at, followers) VALUES (?, ?, ?)",
            followers,
        )
        connection.executemany(
            "INSERT INTO interaction (account, platform, remote_id, kind, author, text,"
            " created_at, collected_at) VALUES (?, ?, ?, ?, ?, '', ?, ?)",
            said,
        )
    return schedule, f"sqlite:///{path}"


def _child_cpu(command: list[str]) -> float:
    """CPU seconds (user + system) of one child process run to its end."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _best(action: Callable[[], object], runs: int = 3) -> float:
    """The fastest of ``runs`` CPU-time measurements of ``action`` in this process."""
    timings = []
    for _ in range(runs):
        start = time.process_time()
        action()
        timings.append(time.process_time() - start)
    return min(timings)


def _report_args(schedule: Path, url: str, fmt: str, out: Path) -> list[str]:
    return ["-s", str(schedule), "--database", url, "report", "--since", "30d",
            "--format", fmt, "--output", str(out)]  # fmt: skip


def _in_process(args: list[str]) -> None:
    from crosspost.cli import cli

    with redirect_stdout(io.StringIO()):
        cli.main(args, prog_name="crosspost", standalone_mode=False)


def _bare_in_process(script: Path, args: list[str]) -> None:
    saved = sys.argv
    sys.argv = [str(script), *args]
    try:
        exec(compile(script.read_text(encoding="utf-8"), str(script), "exec"), {})
    finally:
        sys.argv = saved


def main(posts: int = 10_000) -> None:
    """Build the store, then time each format against the bare script."""
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        took = time.perf_counter()
        schedule, url = build(folder, posts, now)
        print(
            f"store: {posts:,} publications, {posts * SNAPSHOTS_PER_POST:,} snapshots "
            f"built in {time.perf_counter() - took:.1f}s"
        )
        script = folder / "bare.py"
        script.write_text(textwrap.dedent(BARE), encoding="utf-8")
        db = url.removeprefix("sqlite:///")
        bare_args = [db, _at(now - timedelta(days=30)), _at(now + timedelta(hours=1)),
                     str(folder / "bare.json")]  # fmt: skip
        bare_process = min(_child_cpu([sys.executable, str(script), *bare_args]) for _ in range(3))
        bare_inner = _best(lambda: _bare_in_process(script, bare_args))
        imports = _child_cpu([sys.executable, "-c", "import crosspost.cli"])
        print(f"bare script: {bare_process:.2f} CPU-s as a process, {bare_inner:.2f} in-process")
        print(f"python -c 'import crosspost.cli': {imports:.2f} CPU-s")
        for fmt in FORMATS:
            args = _report_args(schedule, url, fmt, folder / f"report.{fmt}")
            process = min(
                _child_cpu([sys.executable, "-m", "crosspost.cli", *args]) for _ in range(2)
            )
            inner = _best(lambda args=args: _in_process(args))  # type: ignore[misc]
            print(
                f"report --format {fmt:<5}: {process:.2f} CPU-s as a process "
                f"({process / bare_process:.1f}x the bare script), {inner:.2f} in-process "
                f"({inner / bare_inner:.1f}x)"
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
