"""Cold start of the ``crosspost`` command: ``--help``, ``check`` and ``status`` of the example.

``python -m benchmarks.coldstart [N]`` runs each command N times (default 7) in a fresh
process, in a temporary copy of the repository's example, and prints the median and the
fastest wall time of each. Targets on the 2-core development machine: ``--help`` and
``check`` under 0.3 s, ``status`` under 0.5 s.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGETS = {"--help": 0.3, "check": 0.3, "status": 0.5}


def _command() -> list[str]:
    script = Path(sys.executable).parent / "crosspost"
    return [str(script)] if script.exists() else [sys.executable, "-m", "crosspost"]


def _example(folder: Path) -> None:
    shutil.copy(REPO / "schedule.yaml", folder / "schedule.yaml")
    shutil.copytree(REPO / "content", folder / "content")
    shutil.copytree(REPO / "templates", folder / "templates")


def _timed(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def measure(runs: int) -> dict[str, list[float]]:
    """Wall times of each command, ``runs`` times, after one warm-up of the file cache."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSPOST_")}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _example(folder)
        command = _command()
        _timed([*command, "status"], folder, env)  # creates and migrates the database
        return {
            name: [_timed([*command, name], folder, env) for _ in range(runs)] for name in TARGETS
        }


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"cold start, median of {runs} runs (load average {load:.1f}):")
    for name, times in measure(runs).items():
        median, best = statistics.median(times), min(times)
        verdict = "ok" if median <= TARGETS[name] else f"over the {TARGETS[name]} s target"
        print(f"  crosspost {name:<8} median {median:.3f} s, fastest {best:.3f} s  ({verdict})")


if __name__ == "__main__":
    main()
