"""``check`` parses the schedule once: counted as the scale benchmark counts it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_check_and_plan_parse_the_schedule_once(example_project: Path, tmp_path: Path) -> None:
    for command in (["check"], ["plan", "--json"]):
        out = tmp_path / "counts.json"
        args = [sys.executable, "-m", "benchmarks.check_counts", str(out), "crosspost"]
        done = subprocess.run(
            [*args, "-s", str(example_project), *command],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        counts = json.loads(out.read_text(encoding="utf-8"))
        assert counts["parses"] == 1
        assert counts["full_collections"] >= 0 and counts["collection_seconds"] >= 0


def test_the_bare_baseline_counts_its_own_parse(tmp_path: Path) -> None:
    """The baseline's count is counted too, not written down: it loads one document."""
    from benchmarks.scale import write_project

    schedule = write_project(tmp_path / "scale", 20)
    out = tmp_path / "bare.json"
    args = [sys.executable, "-m", "benchmarks.check_counts", str(out), "bare"]
    done = subprocess.run(
        [*args, "check", str(schedule)], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["parses"] == 1
