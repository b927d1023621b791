"""Benchmarks: plan time, dispatch throughput and store claims, against loopback only.

Run from the repository root::

    .venv/bin/python -m benchmarks.bench            # all
    .venv/bin/python -m benchmarks.bench dispatch   # one

Prints figures and ratios; asserts nothing (timing belongs here, not in tests).
Everything runs in a temporary folder against the local mock Mastodon server
(tests/mockplatform) on 127.0.0.1, bounded in count, and stops by itself.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from crosspost.daemon import Daemon
from crosspost.preview import plan_posts
from crosspost.project import load_project
from crosspost.store import PlannedRow, Store
from crosspost.sync import sync_plan
from tests.mockplatform import Fault, MockMastodon


def _timed(action: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def _write(folder: Path, text: str) -> Path:
    path = folder / "schedule.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def bench_plan(folder: Path) -> None:
    """Occurrences written ahead (sync) and rendered (plan) for many entries."""
    entries = "\n".join(
        f"  - {{id: e{n}, content: c, to: [a, b], cron: '{n % 60} * * * *'}}" for n in range(200)
    )
    path = _write(
        folder,
        f"""timezone: Europe/Kyiv
accounts:
  a: {{connector: folder, path: out/a}}
  b: {{connector: folder, path: out/b}}
content:
  - {{id: c, body: "Hello {{{{ platform }}}}", link: https://example.org, tags: [x, y]}}
posts:
{entries}
""",
    )
    project = load_project(path)
    store = Store(f"sqlite:///{folder / 'plan.db'}")
    now = datetime.now(UTC)
    took, report = _timed(lambda: sync_plan(project, store, now))
    added = report.added  # type: ignore[attr-defined]
    print(f"sync: {added} publications written ahead in {took:.2f}s ({added / took:,.0f} rows/s)")
    took, posts = _timed(lambda: list(plan_posts(project, now, now + timedelta(days=1), 2000)))
    count = len(posts)  # type: ignore[arg-type]
    print(
        f"plan: {count} publications rendered and measured in {took:.2f}s "
        f"({count / took:,.0f} posts/s)"
    )


def bench_dispatch(folder: Path, posts: int = 300, accounts: int = 4) -> None:
    """Publishing through the real connector to the mock server, vs raw POSTs."""
    tokens = [f"bench-token-{n}" for n in range(accounts)]
    with MockMastodon(tokens=tokens) as server:
        raw = _raw_posts(server.url, tokens, posts)
        for n, token in enumerate(tokens):
            os.environ[f"BENCH_TOKEN_{n}"] = token
        accounts_yaml = "\n".join(
            f"  m{n}: {{connector: mastodon, instance: '{server.url}', "
            f"access_token: '${{BENCH_TOKEN_{n}}}'}}"
            for n in range(accounts)
        )
        due = (datetime.now(UTC) - timedelta(seconds=5)).strftime("%Y-%m-%d %H:%M:%S")
        per_account = posts // accounts
        entries = "\n".join(
            f"  - {{id: p{n}, content: c{n % 10}, to: [m{n % accounts}], at: '{due}'}}"
            for n in range(per_account * accounts)
        )
        content = "\n".join(
            f"  - {{id: c{n}, body: 'Post {n} of the benchmark'}}" for n in range(10)
        )
        path = _write(
            folder,
            f"timezone: UTC\naccounts:\n{accounts_yaml}\ncontent:\n{content}\nposts:\n{entries}\n",
        )
        store = Store(f"sqlite:///{folder / 'dispatch.db'}")
        daemon = Daemon(path, store)
        took, outcomes = _timed(lambda: daemon.run_once(max_rounds=1000))
        published = sum(1 for o in outcomes if o.status == "published")  # type: ignore[attr-defined]
    rate = published / took
    print(
        f"dispatch: {published} posts through {accounts} accounts in {took:.2f}s "
        f"({rate:,.0f} posts/s); raw POSTs {raw:,.0f}/s; "
        f"crosspost costs {raw / rate:.1f}x a bare request"
    )


def _raw_posts(url: str, tokens: list[str], count: int) -> float:
    """Bare POSTs, one thread per token as the dispatcher uses one per account."""

    def post_all(token: str) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        for n in range(count // len(tokens)):
            session.post(f"{url}/api/v1/statuses", data={"status": f"raw {n}"}, timeout=10)

    threads = [threading.Thread(target=post_all, args=(t,)) for t in tokens]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return count / (time.perf_counter() - start)


def bench_claims(folder: Path, rows: int = 2000, workers: int = 4) -> None:
    """Rows claimed exactly once by competing threads (SQLite, and PostgreSQL if reachable)."""
    urls = {"sqlite": f"sqlite:///{folder / 'claims.db'}"}
    if os.environ.get("CROSSPOST_BENCH_PG"):
        urls["postgresql"] = os.environ["CROSSPOST_BENCH_PG"]
    for name, url in urls.items():
        store = Store(url)
        now = datetime.now(UTC)
        store.add_planned(
            [
                PlannedRow("bench", str(n), "a", "c", now, now + timedelta(hours=1))
                for n in range(rows)
            ]
        )
        took, claimed = _timed(lambda store=store: _claim_all(store, workers))  # type: ignore[misc]
        ids: list[int] = claimed  # type: ignore[assignment]
        duplicates = len(ids) - len(set(ids))
        print(
            f"claims ({name}): {len(ids)} rows by {workers} threads in {took:.2f}s "
            f"({len(ids) / took:,.0f} rows/s), {duplicates} claimed twice"
        )


def _claim_all(store: Store, workers: int) -> list[int]:
    """Claim until nothing is left, from ``workers`` threads; every id claimed, in order."""
    claimed: list[int] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        while True:
            got = store.claim_due(datetime.now(UTC), f"w{index}", timedelta(minutes=5), 20)
            if not got:
                return
            with lock:
                claimed.extend(r.id for r in got if r.id is not None)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return claimed


def bench_lateness(
    folder: Path, accounts: int = 3, posts: int = 15, slow_seconds: float = 1.5
) -> None:
    """How late each account's posts go out while one account's platform answers slowly.

    The slow account talks to its own mock server, which holds every POST for
    ``slow_seconds``; the others share a prompt one. Each account has a post due
    every second. The real daemon runs (``run_forever``, 1 s rounds) until all went out.
    """
    with MockMastodon(tokens=["fast"]) as fast, MockMastodon(tokens=["slow"]) as slow:
        slow.fail_next("POST", "/api/v1/statuses", Fault.slow(slow_seconds), times=None)
        os.environ["BENCH_FAST"], os.environ["BENCH_SLOW"] = "fast", "slow"
        servers = [(slow.url, "BENCH_SLOW")] + [(fast.url, "BENCH_FAST")] * (accounts - 1)
        accounts_yaml = "\n".join(
            f"  a{n}: {{connector: mastodon, instance: '{url}', access_token: '${{{var}}}'}}"
            for n, (url, var) in enumerate(servers)
        )
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=5)
        entries = "\n".join(
            f"  - {{id: p{n}x{a}, content: c, to: [a{a}], "
            f"at: '{start + timedelta(seconds=n):%Y-%m-%d %H:%M:%S}'}}"
            for n in range(posts)
            for a in range(accounts)
        )
        content = "  - {id: c, body: 'A post of the lateness benchmark'}"
        path = _write(
            folder,
            f"timezone: UTC\naccounts:\n{accounts_yaml}\ncontent:\n{content}\nposts:\n{entries}\n",
        )
        store = Store(f"sqlite:///{folder / 'lateness.db'}")
        daemon = Daemon(path, store, tick=timedelta(seconds=1), collect_every=None)
        bound = posts * (slow_seconds + 1) + 30
        threading.Thread(target=_stop_when_done, args=(daemon, store, bound), daemon=True).start()
        daemon.run_forever()
        rows = store.publications()
    print(f"lateness: {accounts} accounts, a0 answers in {slow_seconds}s, {posts} posts each")
    for account in sorted({r.account for r in rows}):
        late = sorted(
            (r.updated_at - r.due_at).total_seconds()
            for r in rows
            if r.account == account and r.status == "published"
        )
        if late:
            print(
                f"  {account}: {len(late)} published, lateness median "
                f"{statistics.median(late):.2f}s, worst {late[-1]:.2f}s"
            )


def _stop_when_done(daemon: Daemon, store: Store, bound: float) -> None:
    deadline = time.monotonic() + bound
    time.sleep(2)
    while time.monotonic() < deadline:
        counts = store.counts()
        if counts and not counts.get("planned") and not counts.get("publishing"):
            break
        time.sleep(0.5)
    daemon.stop()


BENCHES = {
    "plan": bench_plan,
    "dispatch": bench_dispatch,
    "claims": bench_claims,
    "lateness": bench_lateness,
}


def main(names: list[str]) -> None:
    """Run the named benchmarks (all by default)."""
    for name in names or list(BENCHES):
        with tempfile.TemporaryDirectory() as folder:
            BENCHES[name](Path(folder))


if __name__ == "__main__":
    main(sys.argv[1:])
