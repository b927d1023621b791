"""The restart benchmark's agency schedule is what it says (its timings are not tested)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from benchmarks.bench import _agency_project
from crosspost.loading.project import load_project


def test_the_agency_schedule_shares_its_cron_lines_and_has_one_post_due(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BENCH_DAEMON_TOKEN", "token")
    now = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)  # the next hour is past midnight
    project = load_project(_agency_project(tmp_path, "http://127.0.0.1:9", now, 500, 120))
    crons = [post.cron for post in project.schedule.posts if post.cron is not None]
    assert len(crons) == 500 and len(set(crons)) == 120
    assert {cron.split()[1] for cron in crons} == {"0", "1"}  # from the next hour on
    due = [post for post in project.schedule.posts if post.at is not None]
    assert [post.id for post in due] == ["now"] and project.targets["now"] == ["m0"]
