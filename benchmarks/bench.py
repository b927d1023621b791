"""Benchmarks: plan time, dispatch throughput and store claims, against loopback only.

Run from the repository root::

    .venv/bin/python -m benchmarks.bench            # every issue-17 figure, bounded, one table
    .venv/bin/python -m benchmarks.bench dispatch   # one

Prints figures and ratios; asserts nothing (timing belongs here, not in tests).
Everything runs in a temporary folder against the local mock Mastodon server
(tests/mockplatform) on 127.0.0.1, bounded in count, and stops by itself.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.collect import bench_collect
from benchmarks.dispatch import bench_dispatch, bench_latency
from benchmarks.figures import Figure, Target
from benchmarks.records import bench_records
from benchmarks.scale import write_project
from benchmarks.scaleout import bench_scaleout
from crosspost.loading.project import load_project
from crosspost.planning.preview import plan_posts
from crosspost.planning.sync import sync_plan
from crosspost.publishing.daemon import Daemon
from crosspost.publishing.daemon_timer import FIRST_COLLECTION_AFTER
from crosspost.status import Status
from crosspost.store import PlannedRow, Store
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


def bench_daemon(folder: Path, rows: int = 100_000, idle_seconds: float = 60.0) -> list[Figure]:
    """``crosspost daemon`` over ~100,000 planned rows: first post, idle CPU, RSS (from /proc)."""
    with MockMastodon(tokens=["daemon-token"]) as server:
        path, store_url = _planned_project(folder, server.url, rows)
        start = time.perf_counter()
        with _daemon_running(path, store_url, folder) as process:
            first = _first_post(server, start, bound=120.0)
            # the start's work: the first post's round, then the first collection (10 s
            # after the start: every account's counts and inbox), which idle is not
            settling = _settled(server, start, bound=120.0)
            start_cpu = _cpu_seconds(process.pid)
            cpu_before, at_before = start_cpu, time.perf_counter()
            time.sleep(idle_seconds)
            cpu = _cpu_seconds(process.pid) - cpu_before
            wall = time.perf_counter() - at_before
            rss, peak = _memory_mb(process.pid)
    shown = _seconds_shown(first)
    print(
        f"daemon with {rows:,} planned rows (SQLite): first post {shown} after start (target < 5s)"
    )
    print(
        f"  start: {start_cpu:.2f} CPU-s until the first collection was over "
        f"({settling:.0f} s after the start)"
    )
    print(
        f"  idle: {cpu:.2f} CPU-s in the {wall:.0f}s after = {100 * cpu / wall:.2f}% of a core "
        "(target < 1%); "
        f"RSS {rss:.0f} MB, peak {peak:.0f} MB (target <= 150 MB)"
    )
    bare = _bare_rss_mb()
    print(f"  the same imports in a bare process: RSS {bare:.0f} MB")
    return [
        Figure(f"daemon, {rows:,} planned rows: first post", first or float("inf"), "s",
               target=Target("<", 5)),
        Figure(f"daemon idle CPU ({wall:.0f} s)", 100 * cpu / wall, "% core",
               target=Target("<", 1)),
        Figure("daemon RSS (baseline: its imports, bare)", rss, "MB", bare, Target("<=", 150)),
    ]  # fmt: skip


def bench_restart(folder: Path, entries: int = 50_000, lines: int = 1_200) -> list[Figure]:
    """``crosspost daemon`` started again on an agency's planned schedule: ``entries``
    daily cron entries over ``lines`` distinct cron lines (shared, as an agency's are),
    one post due now. The start parses and checks the schedule and extends its plan
    before the first round: what a restart (a deploy, a reboot) costs."""
    with MockMastodon(tokens=["daemon-token"]) as server:
        now = datetime.now(UTC)
        path = _agency_project(folder, server.url, now, entries, lines)
        store_url = f"sqlite:///{folder / 'restart.db'}"
        os.environ["BENCH_DAEMON_TOKEN"] = "daemon-token"
        store = Store(store_url)
        took, report = _timed(lambda: sync_plan(load_project(path), store, now))
        store.close()
        start = time.perf_counter()
        with _daemon_running(path, store_url, folder):
            first = _first_post(server, start, bound=120.0)
    shown = _seconds_shown(first)
    print(
        f"daemon restart, {entries:,} entries over {lines:,} cron lines "
        f"({report.added:,} rows planned in {took:.1f}s before): first post {shown}"  # type: ignore[attr-defined]
    )
    return [
        Figure(f"daemon restart, {entries:,} entries ({lines:,} cron lines): first post",
               first or float("inf"), "s", target=Target("<", 5)),
    ]  # fmt: skip


def _agency_project(folder: Path, url: str, now: datetime, entries: int, lines: int) -> Path:
    """``entries`` daily entries over 4 accounts, at ``lines`` distinct times from the next
    hour on, and one post due now (to the first account)."""
    accounts = "\n".join(
        f"  m{n}: {{connector: mastodon, instance: '{url}', "
        "access_token: '${BENCH_DAEMON_TOKEN}'}"
        for n in range(4)
    )
    posts = "\n".join(
        f"  - {{id: e{n}, content: c, to: [m{n % 4}], "
        f"cron: '{n % lines % 60} {(now.hour + 1 + n % lines // 60) % 24} * * *'}}"
        for n in range(entries)
    )
    due = (now - timedelta(seconds=5)).strftime("%Y-%m-%d %H:%M:%S")
    return _write(
        folder,
        f"timezone: UTC\naccounts:\n{accounts}\n"
        "content:\n  - {id: c, body: 'A planned post'}\n"
        f"posts:\n{posts}\n  - {{id: now, content: c, to: [m0], at: '{due}'}}\n",
    )


@contextlib.contextmanager
def _daemon_running(path: Path, store_url: str, folder: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``crosspost daemon`` on ``path`` and ``store_url``, its output and logs dropped,
    stopped after, and stopped too when this process ends another way (a benchmark killed
    half-way left a daemon publishing to a mock that was gone)."""
    environment = {**os.environ, "BENCH_DAEMON_TOKEN": "daemon-token"}
    command = [sys.executable, "-m", "crosspost", "-s", str(path), "--database", store_url]
    process = subprocess.Popen(
        [*command, "daemon"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=folder,
        preexec_fn=_ends_with_parent,
    )
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def _ends_with_parent() -> None:
    """In a child, before it runs: SIGTERM when the benchmark's process ends (Linux).

    Only a call of a function looked up beforehand: the child of a process with threads
    (the mock's) must not load anything between fork and exec."""
    _prctl(_SET_PARENT_DEATH_SIGNAL, _TERM)


_prctl = ctypes.CDLL(None, use_errno=True).prctl
_SET_PARENT_DEATH_SIGNAL = 1  # PR_SET_PDEATHSIG, prctl(2)
_TERM = int(signal.SIGTERM)


def _seconds_shown(first: float | None) -> str:
    return f"{first:.2f}s" if first is not None else "none within 120s"


def _bare_rss_mb() -> float:
    """RSS of a process that only imports what a daemon imports before its first round.

    Read from the child's own /proc: a child's rusage peak on Linux starts from this
    (large) process's, as the memory high-water mark survives fork and exec."""
    imports = (
        "import crosspost.cli, crosspost.publishing.daemon, crosspost.store,"
        " crosspost.collecting.metrics, connectors.mastodon, os, pathlib; "
        "print(pathlib.Path(f'/proc/{os.getpid()}/status').read_text())"
    )
    found = subprocess.run(
        [sys.executable, "-c", imports], capture_output=True, text=True, check=True
    )
    line = next(x for x in found.stdout.splitlines() if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def _planned_project(folder: Path, url: str, rows: int) -> tuple[Path, str]:
    """A project whose 24 h plan is ~``rows`` rows, nothing due for minutes, one post due now;
    the plan is written into the store before the daemon starts."""
    accounts = 4
    now = datetime.now(UTC)
    minute = (now.minute + 5) % 15  # the first cron occurrence is minutes away
    entries = max(rows // (96 * accounts), 1)
    names = ", ".join(f"m{n}" for n in range(accounts))
    accounts_yaml = "\n".join(
        f"  m{n}: {{connector: mastodon, instance: '{url}', "
        "access_token: '${BENCH_DAEMON_TOKEN}'}"
        for n in range(accounts)
    )
    posts = "\n".join(
        f"  - {{id: e{n}, content: c, to: [{names}], cron: '{minute}-59/15 * * * *'}}"
        for n in range(entries)
    )
    due = (now - timedelta(seconds=5)).strftime("%Y-%m-%d %H:%M:%S")
    path = _write(
        folder,
        f"timezone: UTC\naccounts:\n{accounts_yaml}\n"
        "content:\n  - {id: c, body: 'A planned post'}\n"
        f"posts:\n{posts}\n  - {{id: now, content: c, to: [m0], at: '{due}'}}\n",
    )
    store_url = f"sqlite:///{folder / 'daemon.db'}"
    os.environ["BENCH_DAEMON_TOKEN"] = "daemon-token"
    store = Store(store_url)
    took, report = _timed(lambda: sync_plan(load_project(path), store, now))
    print(f"  (planned {report.added:,} rows in {took:.1f}s before the start)")  # type: ignore[attr-defined]
    store.close()
    return path, store_url


def _first_post(server: MockMastodon, start: float, bound: float) -> float | None:
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if server.statuses:
            return time.perf_counter() - start
        time.sleep(0.05)
    return None


def _settled(server: MockMastodon, start: float, bound: float, quiet: float = 2.0) -> float:
    """Seconds from ``start`` (perf_counter) until the daemon, past its first collection's
    start, has made no request for ``quiet`` seconds: its start-up work is over."""
    deadline = time.monotonic() + bound
    first_collection = FIRST_COLLECTION_AFTER.total_seconds()
    time.sleep(max(start + first_collection - time.perf_counter(), 0))
    seen = -1
    while time.monotonic() < deadline and len(server.requests) != seen:
        seen = len(server.requests)
        time.sleep(quiet)
    return time.perf_counter() - start


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _memory_mb(pid: int) -> tuple[float, float]:
    """Resident and peak resident memory of a process, from /proc/PID/status."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(value.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


def bench_scale(
    folder: Path, sizes: list[int] | None = None, commands: tuple[str, ...] = ("check", "plan")
) -> list[Figure]:
    """``check`` and ``plan`` at 1k/10k/50k entries × 10 accounts, vs the bare baseline (CPU-s);
    for ``check`` also the schedule's parses and the full garbage collections."""
    sizes = sizes or [
        int(n) for n in os.environ.get("CROSSPOST_BENCH_SIZES", "1000,10000,50000").split(",")
    ]
    extras = {"check": [], "plan": ["--until", "7d", "--json"]}
    figures = []
    print("scale: CPU seconds (user + sys) and peak RSS of the whole process, vs bare baseline")
    for entries in sizes:
        path = write_project(folder / f"scale{entries}", entries)
        for command in commands:
            ours = _counted(folder / "ours.json", ["crosspost", "-s", str(path), command])
            ours_usage = _child_cpu(ours.command + extras[command])
            bare = _counted(folder / "bare.json", ["bare", command, str(path)])
            bare_usage = _child_cpu(bare.command)
            print(
                f"  {command:5} {entries:>6,} entries: {ours_usage.cpu:7.1f} s "
                f"{ours_usage.rss_mb:5,} MB vs bare {bare_usage.cpu:7.1f} s "
                f"{bare_usage.rss_mb:5,} MB = {ours_usage.cpu / bare_usage.cpu:.2f}x "
                f"(target <= 1.5x); {ours.line()} (bare: {bare.line()})",
                flush=True,
            )
            figures.append(
                Figure(f"{command}, {entries:,} entries x 10 accounts", ours_usage.cpu, "CPU-s",
                       bare_usage.cpu, Target("<=", 1.5, on_ratio=True))
            )  # fmt: skip
            if command == "check":
                figures += ours.figures(f"{command}, {entries:,} entries", bare)
    return figures


@dataclass
class _Counted:
    """A command run through benchmarks/check_counts.py, and what it counted."""

    command: list[str]
    out: Path

    @property
    def counts(self) -> dict[str, float]:
        return dict(json.loads(self.out.read_text(encoding="utf-8")))

    def line(self) -> str:
        counts = self.counts
        return (
            f"schedule parsed {counts['parses']:.0f}x, {counts['full_collections']:.0f} full "
            f"collections in {counts['collection_seconds']:.1f} s"
        )

    def figures(self, name: str, bare: _Counted) -> list[Figure]:
        ours, theirs = self.counts, bare.counts
        return [
            Figure(f"{name}: schedule parses (baseline: the bare script)", ours["parses"],
                   baseline=theirs["parses"], target=Target("<=", 1)),
            Figure(f"{name}: full garbage collections (baseline: the bare script)",
                   ours["full_collections"], baseline=theirs["full_collections"]),
            Figure(f"{name}: seconds in full collections (baseline: the bare script)",
                   ours["collection_seconds"], "s", theirs["collection_seconds"]),
        ]  # fmt: skip


def _counted(out: Path, args: list[str]) -> _Counted:
    """``args`` (``crosspost …`` or ``bare …``) as run and counted by check_counts."""
    return _Counted([sys.executable, "-m", "benchmarks.check_counts", str(out), *args], out)


@dataclass(frozen=True)
class _Usage:
    cpu: float
    rss_mb: int


def _child_cpu(command: list[str]) -> _Usage:
    """CPU seconds and peak RSS of a command (its rusage, so load on the machine does not
    count); a command that fails stops the benchmark (a refused schedule measures nothing)."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, cwd=Path.cwd())
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {process.returncode}")
    return _Usage(usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024)


def _stop_when_done(daemon: Daemon, store: Store, bound: float) -> None:
    deadline = time.monotonic() + bound
    time.sleep(2)
    while time.monotonic() < deadline:
        counts = store.counts()
        if counts and not counts.get(Status.PLANNED) and not counts.get(Status.PUBLISHING):
            break
        time.sleep(0.5)
    daemon.stop()


def bench_coldstart(_folder: Path, runs: int = 7) -> list[Figure]:
    """``--help``, ``check`` and ``status`` in fresh processes (benchmarks/coldstart.py)."""
    from benchmarks import coldstart

    return coldstart.main(runs)


def bench_report(
    _folder: Path, posts: int = 10_000, runs: int = 2, inner: bool = True
) -> list[Figure]:
    """``report`` on 10,000 publications and 70,000 snapshots (benchmarks/report_bench.py)."""
    from benchmarks import report_bench

    return report_bench.main(posts, runs, inner)


BENCHES: dict[str, Callable[[Path], object]] = {
    "plan": bench_plan,
    "scale": bench_scale,
    "daemon": bench_daemon,
    "restart": bench_restart,
    "dispatch": bench_dispatch,
    "latency": bench_latency,
    "claims": bench_claims,
    "lateness": bench_lateness,
    "collect": bench_collect,
    "coldstart": bench_coldstart,
    "report": bench_report,
    "scaleout": bench_scaleout,
    "records": bench_records,
}


def main(names: list[str]) -> None:
    """Run the named benchmarks at their full sizes; with no name (or ``all``), every figure
    of issue 17 at bounded sizes, then one summary table (benchmarks/summary.py)."""
    if names in ([], ["all"]):
        from benchmarks import summary

        summary.main()
        return
    for name in names:
        with tempfile.TemporaryDirectory() as folder:
            BENCHES[name](Path(folder))


if __name__ == "__main__":
    main(sys.argv[1:])
