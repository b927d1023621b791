"""Every figure of issue 17 in one run, at sizes that fit in under 10 minutes, then one table.

``python -m benchmarks.bench`` (or ``all``) runs this. Each benchmark is the same function
as its name runs (``python -m benchmarks.bench daemon`` and so on, at full size); here some
run smaller or shorter, as ``RUNS`` says, and the sizes are printed with the figures.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.bench import (
    bench_coldstart,
    bench_daemon,
    bench_report,
    bench_restart,
    bench_scale,
)
from benchmarks.collect import bench_collect
from benchmarks.dispatch import bench_dispatch, bench_latency
from benchmarks.figures import Figure, table
from benchmarks.records import bench_records
from benchmarks.scaleout import bench_scaleout

__all__ = ["RUNS", "main"]

#: (name, what is smaller than the full run, the run) in the order they go.
RUNS: list[tuple[str, str, Callable[[Path], list[Figure]]]] = [
    # idle for a whole collection interval (a minute), as in full: one regular collection
    ("daemon", "as in full: 100,000 rows, 60 s idle", bench_daemon),
    ("restart", "50,000 entries over 1,200 cron lines as in full", bench_restart),
    ("scale", "check at 50,000 entries only (full: check and plan at 1k, 10k, 50k)",
     lambda folder: bench_scale(folder, [50_000], ("check",))),
    ("collect", "the default metric window only (full: also the previous one, per tick)",
     lambda folder: bench_collect(folder, ("now",))),
    ("records", "2,000 publish results as in full", bench_records),
    ("coldstart", "3 runs per command (full: 7)", lambda folder: bench_coldstart(folder, 3)),
    ("dispatch", "2,000 posts as in full", bench_dispatch),
    ("latency", "400 posts over 100 accounts at 200 ms a post, as in full", bench_latency),
    ("report", "10,000 publications as in full; one process per format, none timed "
     "in-process (full: best of 2, and in-process)",
     lambda folder: bench_report(folder, 10_000, runs=1, inner=False)),
    ("scaleout", "100 accounts x 2,000 posts due within 10 s, 20 s after launch "
     "(full: 1,000 x 20,000 within 60 s, 60 s after)",
     lambda folder: bench_scaleout(folder, (100, 2000), warmup=20.0, window=10.0)),
]  # fmt: skip


def main() -> None:
    """Run every benchmark of ``RUNS``, then print the summary table and the wall time."""
    started = time.perf_counter()
    figures: list[Figure] = []
    failed: list[str] = []
    for name, sizes, run in RUNS:
        print(f"== {name} ({sizes}); load average {os.getloadavg()[0]:.1f}", flush=True)
        began = time.perf_counter()
        with tempfile.TemporaryDirectory() as folder:
            try:
                figures += run(Path(folder))
            except (Exception, SystemExit) as error:  # one broken benchmark hides no other figure
                print(f"{name} failed: {error!r}")
                failed.append(name)
        # which part of the 10 minutes each takes, on the machine at hand
        print(f"== {name}: {time.perf_counter() - began:.0f} s wall", flush=True)
    minutes = (time.perf_counter() - started) / 60
    print(f"\nissue 17, all figures in one run ({minutes:.1f} min wall):\n")
    print(table(figures))
    if failed:
        print(f"\nfailed, no figures: {', '.join(failed)}")
