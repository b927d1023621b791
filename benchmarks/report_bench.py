"""``crosspost report`` on 10,000 publications and 70,000 snapshots, against a bare script.

Run from the repository root::

    .venv/bin/python -m benchmarks.report_bench            # 10,000 posts, 7 snapshots each
    .venv/bin/python -m benchmarks.report_bench 2000       # fewer posts

Builds a temporary SQLite store with bulk inserts (4 accounts on 2 platforms, one
account snapshot per hour, member interactions), then times, per format, the whole
``crosspost report`` process (CPU seconds of the child, interpreter start and imports
included) and the report alone inside this process (build + render). The baseline is a
bare stdlib script (``benchmarks/report_bare.py``: ``sqlite3``, plain Python) computing the
same figures, every section of the JSON report (``tests/test_report_bench.py`` checks that
they are equal), over the same period to the microsecond. Prints figures and ratios;
asserts nothing.
"""

from __future__ import annotations

import io
import json
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks import report_bare
from benchmarks.figures import Figure, Target
from crosspost.store import Store

FORMATS = ("table", "json", "csv", "html")
ACCOUNTS = {"news": "folder", "archive": "folder", "feed-a": "feed", "feed-b": "feed"}
SNAPSHOTS_PER_POST = 7
#: The baseline, run as a script: stdlib only, the same figures as the report.
BARE = str(Path(__file__).with_name("report_bare.py"))
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


def _report_args(
    schedule: Path, url: str, period: tuple[str, str], fmt: str, out: Path
) -> list[str]:
    return ["-s", str(schedule), "--database", url, "report", "--since", period[0],
            "--until", period[1], "--format", fmt, "--output", str(out)]  # fmt: skip


def _in_process(args: list[str]) -> None:
    from crosspost.cli import cli

    with redirect_stdout(io.StringIO()):
        cli.main(args, prog_name="crosspost", standalone_mode=False)


def _bare_in_process(args: list[str]) -> None:
    report_bare.main(args)


def bare_config(schedule: Path, since: str, until: str) -> dict[str, object]:
    """What the bare script is told: the schedule's accounts, zone and titles, the period."""
    from crosspost.cli.report_options import report_query
    from crosspost.loading.project import load_project
    from crosspost.reporting.posting_times import MIN_POSTS_FOR_TIMES, MIN_POSTS_PER_SLOT

    project = load_project(schedule)
    query = report_query(project, since, until, (), (), datetime.fromisoformat(until),
                         MIN_POSTS_FOR_TIMES)  # fmt: skip
    return {
        "accounts": dict(query.accounts), "timezone": str(query.timezone),
        "titles": dict(query.titles), "exact": sorted(query.exact_followers),
        "since": _at(query.since), "until": _at(query.until), "top": query.top,
        "min_posts": MIN_POSTS_FOR_TIMES, "min_slot_posts": MIN_POSTS_PER_SLOT,
    }  # fmt: skip


def main(posts: int = 10_000, runs: int = 2, inner: bool = True) -> list[Figure]:
    """Build the store, then time each format against the bare script: the best of ``runs``
    processes, and (``inner``) the best of three runs inside this process."""
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        took = time.perf_counter()
        schedule, url = build(folder, posts, now)
        print(
            f"store: {posts:,} publications, {posts * SNAPSHOTS_PER_POST:,} snapshots "
            f"built in {time.perf_counter() - took:.1f}s"
        )
        config = folder / "bare.json"
        # one period for both, to the microsecond: "--since 30d" would differ by a few seconds
        period = ((now - timedelta(days=30)).isoformat(), now.isoformat())
        config.write_text(json.dumps(bare_config(schedule, *period)))
        db = url.removeprefix("sqlite:///")
        bare_args = [db, str(config), str(folder / "bare-out.json")]
        bare_process = min(_child_cpu([sys.executable, BARE, *bare_args]) for _ in range(3))
        bare_inner = _best(lambda: _bare_in_process(bare_args)) if inner else float("nan")
        imports = _child_cpu([sys.executable, "-c", "import crosspost.cli"])
        shown = f", {bare_inner:.2f} in-process" if inner else ""
        print(f"bare script: {bare_process:.2f} CPU-s as a process{shown}")
        print(f"python -c 'import crosspost.cli': {imports:.2f} CPU-s")
        figures = []
        for fmt in FORMATS:
            args = _report_args(schedule, url, period, fmt, folder / f"report.{fmt}")
            command = [sys.executable, "-m", "crosspost", *args]
            process = min(_child_cpu(command) for _ in range(runs))
            inside = _best(lambda args=args: _in_process(args)) if inner else float("nan")  # type: ignore[misc]
            shown = f", {inside:.2f} in-process ({inside / bare_inner:.1f}x)" if inner else ""
            print(
                f"report --format {fmt:<5}: {process:.2f} CPU-s as a process "
                f"({process / bare_process:.1f}x the bare script){shown}"
            )
            figures.append(
                Figure(f"report --format {fmt}, {posts:,} posts (process)", process, "CPU-s",
                       bare_process, Target("<=", 3, on_ratio=True))
            )  # fmt: skip
        return figures


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
