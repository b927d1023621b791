"""Publish results recorded per second: ``Store.finish`` against bare ``sqlite3``.

``python -m benchmarks.bench records`` (``CROSSPOST_BENCH_RECORDS``, default 2,000
rows). Each publication's result is durable on its own (docs/states.md: the guarantee
is per row), so each is one transaction, as ``crosspost publish`` and a daemon's last
post of a turn record it (the daemon's other posts share that transaction with the
claim of the next one: ``benchmarks.bench dispatch`` counts them). The baseline is the
same UPDATE of the same table through ``sqlite3`` alone, one transaction per row, on a
file with the store's pragmas (WAL, ``synchronous=NORMAL``). Rates are per CPU-second
of this process, so other load on the machine does not move them much. For scale, the
same rows written by one bare transaction are printed too.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.figures import Figure
from crosspost.store import Store
from crosspost.store.planned import PlannedRow
from crosspost.store.records import Sent

__all__ = ["bench_records"]

_WORKER = "bench-records"
_BARE_UPDATE = (
    "UPDATE publication SET status = 'published', remote_id = ?, url = ?, published_at = ?, "
    "text_hash = ?, claimed_by = NULL, claimed_until = NULL, updated_at = ? "
    "WHERE id = ? AND claimed_by = ?"
)


def bench_records(folder: Path, rows: int = 0) -> list[Figure]:
    """Publish results recorded per CPU-second by the store and by bare ``sqlite3``."""
    rows = rows or int(os.environ.get("CROSSPOST_BENCH_RECORDS", "2000"))
    crosspost = rows / _cpu(_store_records(folder / "store.db", rows))
    bare = rows / _cpu(_bare_records(folder / "bare.db", rows, per_row=True))
    together = rows / _cpu(_bare_records(folder / "together.db", rows, per_row=False))
    print(
        f"records: {rows:,} publish results, one transaction each (per CPU-second, load "
        f"average {os.getloadavg()[0]:.1f}): Store.finish {crosspost:,.0f}/s; bare sqlite3 "
        f"{bare:,.0f}/s (crosspost at {bare / crosspost:.1f}x the bare cost); bare sqlite3, "
        f"all in one transaction (not what the guarantee allows): {together:,.0f}/s"
    )
    return [
        Figure("publish results recorded per CPU-second, one transaction each "
               "(baseline: bare sqlite3)", crosspost, "/s", bare),
    ]  # fmt: skip


def _claimed(path: Path, rows: int) -> tuple[Store, list[int]]:
    """A store at ``path`` with ``rows`` publications claimed by one worker."""
    store = Store(f"sqlite:///{path}")
    now = datetime.now(UTC)
    planned = [
        PlannedRow("bench", str(n), f"a{n % 10}", "c", now, now + timedelta(hours=1))
        for n in range(rows)
    ]
    store.add_planned(planned, now)
    claimed = store.claim_due(now, _WORKER, timedelta(minutes=10), limit=rows)
    return store, [p.id for p in claimed if p.id is not None]


def _store_records(path: Path, rows: int) -> Callable[[], object]:
    store, ids = _claimed(path, rows)
    now = datetime.now(UTC)

    def record() -> None:
        for n in ids:
            sent = Sent(f"remote-{n}", f"https://social.example/@a/{n}", now, text_hash="0" * 64)
            store.finish(n, _WORKER, now, sent)
        store.close()

    return record


def _bare_records(path: Path, rows: int, *, per_row: bool) -> Callable[[], object]:
    store, ids = _claimed(path, rows)
    store.close()
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def record() -> None:
        if not per_row:
            connection.execute("BEGIN IMMEDIATE")
        for n in ids:
            if per_row:
                connection.execute("BEGIN IMMEDIATE")
            url = f"https://social.example/@a/{n}"
            values = (f"remote-{n}", url, now, "0" * 64, now, n, _WORKER)
            connection.execute(_BARE_UPDATE, values)
            if per_row:
                connection.execute("COMMIT")
        if not per_row:
            connection.execute("COMMIT")
        connection.close()

    return record


def _cpu(action: Callable[[], object]) -> float:
    """CPU seconds (user + sys) of this process spent in ``action``."""
    start = time.process_time()
    action()
    return time.process_time() - start
