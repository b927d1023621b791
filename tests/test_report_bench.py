"""The report benchmark's bare script computes the figures ``crosspost report`` shows.

If the report gains a figure or changes one, this fails until the baseline follows,
so "within N× of a bare script" keeps meaning the same work.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import report_bare
from benchmarks.report_bench import BARE, _at, bare_config, build
from crosspost.cli.report_options import report_query
from crosspost.loading.project import load_project
from crosspost.reporting.posting_times import MIN_POSTS_FOR_TIMES
from crosspost.reporting.report_json import report_data
from crosspost.store import Store
from tests.report_sources import built_both_ways

NOW = datetime(2026, 12, 6, 18, 0, 0, 123456, tzinfo=UTC)


def _extras(database: Path) -> None:
    """What the benchmark's store lacks: conversions, answers, questions, joins and leaves,
    a notification and an answer (not posts), and snapshots after ``until``."""

    def when(hours: float) -> str:
        return _at(NOW - timedelta(hours=hours))

    with sqlite3.connect(database) as db:
        db.executemany(
            "INSERT INTO conversion (campaign, content, source, day, clicks, conversions, value,"
            " imported_at, source_file) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'x.csv')",
            [("e1", "c1", "folder", "2026-12-01", 10, 3, 2.5, when(1)),
             ("e1", "c1", "", "2026-12-02", None, 1, None, when(1)),
             ("e5", "c5", "feed", "2026-12-02", 4, 2, None, when(1))],
        )  # fmt: skip
        db.executemany(
            "INSERT INTO publication (entry, occurrence, account, content_id, status, due_at,"
            " expires_at, attempts, published_at, created_at, updated_at)"
            " VALUES (?, ?, ?, 'x', 'published', ?, ?, 1, ?, ?, ?)",
            [(entry, entry, account, when(h), when(h), when(h), when(h), when(h))
             for entry, account, h in (("reply:2101", "news", 40), ("reply:2102", "news", 2),
                                       ("notify:x", "news", 30), ("reply:2109", "feed-a", 5))],
        )  # fmt: skip
        db.executemany(
            "UPDATE interaction SET text = ?, answered_at = ? WHERE id = ?",
            [("Does this work?", when(50), 2101), ("see https://x.org #tag", None, 2104),
             ("why? @ada", None, 2105), ("and now？ @bob", None, 2109), ("no", when(500), 2113),
             ("old?", None, 12)],
        )  # fmt: skip
        db.execute("UPDATE interaction SET raw = '{\"question\": true}' WHERE id = 2117")
        db.executemany(
            "INSERT INTO follower_event (account, follower_id, handle, kind, observed_at)"
            " VALUES (?, ?, '', ?, ?)",
            [("news", f"f{n}", ("join", "leave")[n % 3 == 0], when(n * 7)) for n in range(60)],
        )
        db.execute(
            "INSERT INTO metric_snapshot (publication_id, collected_at, likes) VALUES (1, ?, 999)",
            (_at(NOW + timedelta(days=40)),),
        )


def _normal(value: Any) -> Any:
    """Both sides as the JSON report writes them: times with ``Z``, floats to 6 places."""
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normal(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, float):
        return round(value, 6)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def test_bare_script_computes_every_figure_of_the_report(tmp_path: Path) -> None:
    schedule, url = build(tmp_path, 400, NOW)
    _extras(tmp_path / "bench.db")
    period = ((NOW - timedelta(days=20)).isoformat(), NOW.isoformat())
    config = bare_config(schedule, *period)
    config.update(exact=["news"], min_slot_posts=2)  # 266 posts leave few slots with 5
    bare = report_bare.figures(str(tmp_path / "bench.db"), config)

    query = report_query(load_project(schedule), *period, (), (), NOW, MIN_POSTS_FOR_TIMES)
    query = dataclasses.replace(query, exact_followers=frozenset({"news"}), min_slot_posts=2)
    store = Store(url)
    data = report_data(built_both_ways(store, query, NOW))
    store.close()

    assert data["posts"] and data["responses"][0]["questions"] > 0  # the sections have data
    assert any(t["enough_data"] for t in data["when_to_post"])
    assert [a["joins"] for a in data["accounts"] if a["account"] == "news"] != [None]
    assert sum(p["conversions"] for p in data["posts"]) > 0
    for section, rows in bare.items():
        assert _normal(rows) == data[section], section


def test_bare_script_runs_as_a_script(tmp_path: Path) -> None:
    schedule, _ = build(tmp_path, 30, NOW)
    config = tmp_path / "config.json"
    config.write_text(json.dumps(bare_config(schedule, "2026-11-01", NOW.isoformat())))
    out = tmp_path / "out.json"
    subprocess.run([sys.executable, BARE, str(tmp_path / "bench.db"), str(config), str(out)],
                   check=True)  # fmt: skip
    assert len(json.loads(out.read_text())["posts"]) == 30
