"""Scale-out: 1, 2 and 4 ``crosspost daemon`` processes on one PostgreSQL database.

For each daemon count, a fresh database on the server of ``CROSSPOST_BENCH_PG``
(default ``postgresql://postgres@127.0.0.1:5432/test``; the bench creates and
drops ``crosspost_scaleout_*`` databases there) gets the plan of a project with
A Mastodon accounts on the local mock (tests/mockplatform) and P posts, due
within one minute that starts ``CROSSPOST_BENCH_SCALEOUT_WARMUP`` seconds (60)
after the daemons are launched. The daemons run as separate processes until
every post is recorded (or a bound passes), then get SIGTERM.

Sizes: ``CROSSPOST_BENCH_SCALEOUT=accounts,posts`` (default ``1000,20000``, as the
issue asks; on a small shared machine a smaller size such as ``200,4000`` fits
in a few minutes) and ``CROSSPOST_BENCH_SCALEOUT_DAEMONS`` (default ``1,2,4``).

Printed per daemon count: posts/s (posts recorded / time from the first due time
to the last record), lateness (record time − due time) over all posts, the spread
of each account's own p50 and max lateness, and duplicates: idempotency keys the
mock received in more than one successful POST (must be 0), plus posts the mock
stored more than once for one publication.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.figures import Figure, Target
from benchmarks.postgres import fresh_database
from crosspost.loading.project import load_project
from crosspost.planning.sync import sync_plan
from crosspost.status import Status
from crosspost.store import Store
from tests.mockplatform import MockMastodon

__all__ = ["bench_scaleout"]

#: Posts still unrecorded this long after the last due time end the run anyway.
_BOUND = 600.0


def _sizes() -> tuple[int, int, list[int]]:
    accounts, posts = (
        int(n) for n in os.environ.get("CROSSPOST_BENCH_SCALEOUT", "1000,20000").split(",")
    )
    daemons = [
        int(n) for n in os.environ.get("CROSSPOST_BENCH_SCALEOUT_DAEMONS", "1,2,4").split(",")
    ]
    return accounts, posts, daemons


def bench_scaleout(
    folder: Path,
    size: tuple[int, int] | None = None,
    warmup: float | None = None,
    window: float = 60.0,
) -> list[Figure]:
    """posts/s, lateness and duplicates for 1, 2 and 4 daemons on PostgreSQL; ``size``
    (accounts, posts) and ``warmup`` override the environment's, posts are due within
    ``window`` seconds."""
    accounts, posts, counts = _sizes()
    accounts, posts = size or (accounts, posts)
    if warmup is None:
        warmup = float(os.environ.get("CROSSPOST_BENCH_SCALEOUT_WARMUP", "60"))
    per_account = max(posts // accounts, 1)
    print(
        f"scaleout: {accounts:,} accounts x {per_account} posts = {accounts * per_account:,} "
        f"posts due within {window:.0f}s, {warmup:.0f}s after launch; PostgreSQL, mock Mastodon"
    )
    figures: list[Figure] = []
    tokens = [f"scale-{n}" for n in range(accounts)]
    for n, token in enumerate(tokens):
        os.environ[f"SCALE_TOKEN_{n}"] = token
    for daemons in counts:
        with MockMastodon(tokens=tokens) as server, fresh_database("scaleout") as url:
            start = datetime.now(UTC) + timedelta(seconds=warmup)
            path = _project(
                folder / f"d{daemons}", server.url, accounts, per_account, start, window
            )
            store = Store(url)
            sync_plan(load_project(path), store, datetime.now(UTC))
            _run(path, url, store, daemons, start)
            figures += _report(daemons, store, server, start, figures[0] if figures else None)
            store.close()
    return figures


def _project(
    folder: Path, url: str, accounts: int, per_account: int, start: datetime, window: float
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"m{n}" for n in range(accounts)]
    lines = ["timezone: UTC", "accounts:"]
    lines += [
        f"  {name}: {{connector: mastodon, instance: '{url}', "
        f"access_token: '${{SCALE_TOKEN_{n}}}'}}"
        for n, name in enumerate(names)
    ]
    lines += [f"groups:\n  everyone: [{', '.join(names)}]"]
    lines += ["content:", "  - {id: c, body: 'A post of the scale-out benchmark'}", "posts:"]
    step = window / per_account
    for k in range(per_account):
        due = (start + timedelta(seconds=k * step)).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"  - {{id: e{k}, content: c, to: [everyone], at: '{due}'}}")
    path = folder / "schedule.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(path: Path, url: str, store: Store, daemons: int, start: datetime) -> None:
    command = [sys.executable, "-m", "crosspost", "-s", str(path), "--database", url]
    processes = [
        subprocess.Popen(
            [*command, "daemon", "--tick", "1s"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=path.parent,
        )
        for _ in range(daemons)
    ]
    try:
        _wait_until_done(store, start)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait_until_done(store: Store, start: datetime) -> None:
    deadline = time.monotonic() + (start - datetime.now(UTC)).total_seconds() + 60 + _BOUND
    while time.monotonic() < deadline:
        time.sleep(2)
        counts = store.counts()
        if datetime.now(UTC) > start and not counts.get(Status.PLANNED):
            if not counts.get(Status.PUBLISHING):
                return


def _report(
    daemons: int, store: Store, server: MockMastodon, start: datetime, first: Figure | None
) -> list[Figure]:
    """Print one daemon count's figures; return its posts/s (next to ``first``, the first
    count's), p99 lateness and duplicates."""
    rows = store.publications()
    done = [r for r in rows if r.status == Status.PUBLISHED]
    late: dict[str, list[float]] = defaultdict(list)
    for row in done:
        late[row.account].append((_utc(row.updated_at) - _utc(row.due_at)).total_seconds())
    every = sorted(s for values in late.values() for s in values)
    last = max((_utc(r.updated_at) for r in done), default=start)
    took = max((last - start).total_seconds(), 1e-9)
    other = Counter(str(r.status) for r in rows if r.status != Status.PUBLISHED)
    drained = (last - max(_utc(r.due_at) for r in rows)).total_seconds() if rows else 0.0
    print(
        f"  {daemons} daemon(s): {len(done):,}/{len(rows):,} published in {took:.1f}s "
        f"= {len(done) / took:,.0f} posts/s, the last {drained:.1f}s after the last due time; "
        f"other: {dict(other) or 'none'}"
    )
    if every:
        print(f"    lateness, all posts:     {_percentiles(every)}")
        medians = sorted(statistics.median(v) for v in late.values())
        worst = sorted(max(v) for v in late.values())
        print(f"    per account, p50 of its: {_percentiles(medians)}")
        print(f"    per account, max of its: {_percentiles(worst)}")
    keys = Counter(
        r.headers.get("idempotency-key")
        for r in server.requests
        if r.method == "POST" and r.path == "/api/v1/statuses" and r.status == 200
    )
    stored = Counter(s.get("idempotency_key") for s in server.statuses)
    twice = sum(1 for n in keys.values() if n > 1) + sum(1 for n in stored.values() if n > 1)
    print(
        f"    duplicates: {sum(1 for n in keys.values() if n > 1)} keys posted twice, "
        f"{sum(1 for n in stored.values() if n > 1)} stored twice (must be 0)"
    )
    p99 = every[min(int(0.99 * len(every)), len(every) - 1)] if every else float("nan")
    baseline = None if first is None else first.value
    return [
        Figure(f"scaleout {daemons} daemon(s): posts/s (baseline: the first count)",
               len(done) / took, "posts/s", baseline),
        Figure(f"scaleout {daemons} daemon(s): lateness p99", p99, "s"),
        Figure(f"scaleout {daemons} daemon(s): duplicates, {len(done):,}/{len(rows):,} "
               "published", twice, target=Target("==", 0)),
    ]  # fmt: skip


def _percentiles(values: list[float]) -> str:
    def at(q: float) -> float:
        return values[min(int(q * len(values)), len(values) - 1)]

    return f"p50 {at(0.5):.1f}s  p90 {at(0.9):.1f}s  p99 {at(0.99):.1f}s  max {values[-1]:.1f}s"


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
