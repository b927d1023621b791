"""Collection benchmarks: snapshot writes, metric calls per post, inbox calls per month.

Run from the repository root::

    .venv/bin/python -m benchmarks.bench collect

Snapshot writes are timed (figures are indicative); calls are counted on a fake
clock against fake platforms (tests/collect_sim.py), so they do not depend on
the machine.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import ClassVar
from unittest import mock

from connectors.base import BaseConnector, Capability, InboxItem, InboxPage, Limits, Metrics
from crosspost import registry
from crosspost.metrics import MetricsCollector
from crosspost.project import load_project
from crosspost.store import PlannedRow, Store
from crosspost.store.collect import (
    NewSnapshot,
    add_metric_snapshot,
    add_metric_snapshots,
    inbox_schedules,
)
from crosspost.store.models import MetricSnapshot
from tests.collect_sim import T0, simulate_month, spread, together

__all__ = ["bench_collect"]

MONTH = timedelta(days=30)
#: Inbox reads per month at the old fixed 5-minute interval.
FIXED_INBOX_READS = MONTH // timedelta(minutes=5)


def bench_collect(folder: Path) -> None:
    """Every collection figure, each next to its baseline."""
    _snapshot_writes(folder)
    _metric_calls(folder)
    _inbox_calls(folder)


# --------------------------------------------------------------------------- writes


def _publications(store: Store, count: int) -> list[int]:
    rows = [
        PlannedRow("bench", str(n), "a", "c", T0, T0 + timedelta(hours=1)) for n in range(count)
    ]
    store.add_planned(rows, T0)
    return [p.id for p in store.publications() if p.id is not None]


def _snapshots(ids: list[int], rounds: int) -> list[list[NewSnapshot]]:
    """One batch per (round, slice of 1,000 posts): what the collector writes per round."""
    batches = []
    for step in range(rounds):
        at = T0 + timedelta(hours=step)
        for start in range(0, len(ids), 1000):
            batches.append(
                [
                    NewSnapshot(pid, at, Metrics(likes=step * pid % 7), step=step * 3600)
                    for pid in ids[start : start + 1000]
                ]
            )
    return batches


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _snapshot_writes(folder: Path, posts: int = 10_000, rounds: int = 7) -> None:
    store = Store(f"sqlite:///{folder / 'snapshots.db'}")
    ids = _publications(store, posts)
    batches = _snapshots(ids, rounds)
    count = sum(len(b) for b in batches)
    batched = count / _timed(lambda: [add_metric_snapshots(store, b) for b in batches])
    one_by_one = _one_by_one(folder)
    bare = _bare_sqlite(folder, count)
    print(
        f"collect/snapshots: {count:,} written in batches of 1,000 (thinning on), SQLite WAL: "
        f"{batched:,.0f}/s; one transaction per snapshot (before): {one_by_one:,.0f}/s "
        f"({batched / one_by_one:.0f}x faster); bare sqlite3 executemany: {bare:,.0f}/s "
        f"(crosspost at {bare / batched:.1f}x the bare cost)"
    )
    store.close()


def _one_by_one(folder: Path, count: int = 1500) -> float:
    store = Store(f"sqlite:///{folder / 'one.db'}")
    ids = _publications(store, count)
    rows = [MetricSnapshot(publication_id=pid, collected_at=T0, likes=pid % 7) for pid in ids]
    rate = len(rows) / _timed(lambda: [add_metric_snapshot(store, row) for row in rows])
    store.close()
    return rate


def _bare_sqlite(folder: Path, count: int) -> float:
    """The same rows through sqlite3 alone: one executemany, one transaction, WAL."""
    connection = sqlite3.connect(folder / "bare.db", isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(
        "CREATE TABLE s (id INTEGER PRIMARY KEY, publication_id INTEGER, collected_at TEXT,"
        " likes INTEGER, reposts INTEGER, replies INTEGER, quotes INTEGER, views INTEGER,"
        " bookmarks INTEGER, raw TEXT, step INTEGER)"
    )
    connection.execute("CREATE INDEX ix_s ON s (publication_id)")
    rows = [
        (n % 10_000, "2026-03-01 12:00:00", n % 7, None, None, None, None, None, "null", 900)
        for n in range(count)
    ]

    def insert() -> None:
        connection.execute("BEGIN")
        connection.executemany(
            "INSERT INTO s (publication_id, collected_at, likes, reposts, replies, quotes,"
            " views, bookmarks, raw, step) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        connection.execute("COMMIT")

    rate = count / _timed(insert)
    connection.close()
    return rate


# --------------------------------------------------------------------------- metric calls


def _metric_calls(folder: Path) -> None:
    cases = {
        "published together (100 in one minute)": together(100),
        "spread, 100 over 10 minutes": spread(100, 10),
        "spread, 100 one a minute": spread(100, 100),
    }
    for index, (name, offsets) in enumerate(cases.items()):
        month = folder / f"month{index}"
        month.mkdir()
        per_tick = folder / f"tick{index}"
        per_tick.mkdir()
        aligned = simulate_month(month, offsets).calls_per_post
        before = simulate_month(per_tick, offsets, align=0.0).calls_per_post
        print(
            f"collect/metric calls per post over 30 days, batches of 25, {name}: "
            f"{aligned:.2f} aligned (window 10% of the step); {before:.2f} per tick only "
            f"(before); target <= 0.3, floor 7 steps / 25 = 0.28"
        )


# --------------------------------------------------------------------------- inbox


class QuietInbox(BaseConnector):
    """An inbox that gets a new item every ``every`` (or never)."""

    name: ClassVar[str] = "quietinbox"
    limits: ClassVar[Limits] = Limits(max_length=500)
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.INBOX})
    every: ClassVar[timedelta | None] = None
    now: ClassVar[list[timedelta]] = [timedelta(0)]
    reads: ClassVar[int] = 0

    def fetch_inbox(self, cursor: str | None) -> InboxPage:
        QuietInbox.reads += 1
        arrived = self.now[0] // self.every if self.every else 0
        after = int(cursor or 0)
        items: Sequence[InboxItem] = [
            InboxItem(str(n), "mention", "@m", None, "hi", None, T0 + self.now[0])
            for n in range(after + 1, arrived + 1)
        ]
        return InboxPage(tuple(items), str(arrived) if items else cursor)


def _inbox_calls(folder: Path) -> None:
    for every in (None, timedelta(hours=6), timedelta(minutes=30)):
        reads = _inbox_month(folder, every)
        arriving = f"a mention every {every}" if every else "no mention all month"
        print(
            f"collect/inbox reads per account per month, {arriving}: {reads:,} with backoff "
            f"(5 min doubling to 1 h); {FIXED_INBOX_READS:,} every 5 minutes (before), "
            f"{FIXED_INBOX_READS / reads:.1f}x fewer"
        )


def _inbox_month(folder: Path, every: timedelta | None) -> int:
    """Inbox reads over 30 days, the collector run at each minute a read is due."""
    name = f"inbox-{every.total_seconds() if every else 0:.0f}"
    (folder / name).mkdir()
    schedule = folder / name / "schedule.yaml"
    schedule.write_text(
        "timezone: UTC\naccounts:\n  a: {connector: quietinbox}\n"
        "content:\n  - {id: hello, body: Hello.}\nposts: []\n",
        encoding="utf-8",
    )
    store = Store(f"sqlite:///{folder / name / 'inbox.db'}")
    QuietInbox.every, QuietInbox.reads, QuietInbox.now = every, 0, [timedelta(0)]
    real = registry.load
    patched = {QuietInbox.name: QuietInbox}
    with mock.patch.object(registry, "load", lambda n: patched.get(n) or real(n)):
        project = load_project(schedule)
        collector = MetricsCollector(store, project, lambda: T0 + QuietInbox.now[0])
        while QuietInbox.now[0] < MONTH:
            collector.run_due()
            next_at = inbox_schedules(store)["a"].next_at
            QuietInbox.now[0] = max(next_at - T0, QuietInbox.now[0] + timedelta(minutes=1))
    store.close()
    return QuietInbox.reads
