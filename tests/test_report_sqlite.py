"""The report's rows read from a SQLite file with the standard library are the store's.

Every method of :class:`SqliteReportSource` is held to its twin among the store's
queries on the report's fixtures, for closed and open periods and every set of
accounts; ``tests/report_sources.py`` also holds whole reports to each other wherever
the report tests build one on SQLite.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine

from crosspost.cli.context import AppContext
from crosspost.reporting.report import build_report
from crosspost.reporting.report_sqlite import SqliteReportSource, open_sqlite_report
from crosspost.store import Store
from crosspost.store.report_source import StoreReportSource
from tests.test_report import SINCE, UNTIL, Builder, at, fixture, invoke, project, query
from tests.test_report_sql import snapshots

__all__ = ["fixture", "project", "snapshots"]  # fixtures used here

PERIODS = [(SINCE, UNTIL), (None, None), (None, UNTIL), (SINCE, None), (at(6), at(6, 12))]
ACCOUNT_SETS = [["masto", "sky"], ["masto"], ["sky"], [], ["nobody"]]


@pytest.fixture
def each_store(tmp_path: Path) -> Store:
    """The SQLite store :mod:`tests.test_report_sql`'s fixture fills."""
    return Store(f"sqlite:///{tmp_path / 'report.db'}")


@pytest.fixture
def twins(store: Store) -> Iterator[tuple[StoreReportSource, SqliteReportSource]]:
    twin = open_sqlite_report(store.url)
    assert twin is not None
    yield StoreReportSource(store), twin
    twin.close()


def _both(twins: tuple[Any, Any], method: str, *args: Any) -> Any:
    """What both sources read; dicts compared with their order."""
    via_store, via_file = (getattr(source, method)(*args) for source in twins)
    assert via_file == via_store, method
    if isinstance(via_store, dict):
        assert list(via_file) == list(via_store)
    return via_store


@pytest.mark.parametrize("since, until", PERIODS)
@pytest.mark.parametrize("accounts", ACCOUNT_SETS)
def test_every_query_reads_what_the_stores_reads(
    fixture: dict[str, int],
    twins: tuple[StoreReportSource, SqliteReportSource],
    since: datetime | None,
    until: datetime | None,
    accounts: list[str],
) -> None:
    _both(twins, "published_posts", since, until, accounts)
    _both(twins, "post_reactions", since, until, accounts)
    _both(twins, "account_snapshots", accounts, since, until)
    _both(twins, "follower_event_counts", accounts, since, until)
    _both(twins, "interactions", accounts, since, until)
    if since is not None and until is not None:
        _both(twins, "received_items", accounts, since, until)


def test_the_fixture_has_rows_for_every_query(
    fixture: dict[str, int], twins: tuple[StoreReportSource, SqliteReportSource]
) -> None:
    """So the comparisons above compare something."""
    names = ["masto", "sky"]
    assert len(_both(twins, "published_posts", SINCE, UNTIL, names)) == 4
    assert len(_both(twins, "post_reactions", SINCE, UNTIL, names)) == 3
    assert _both(twins, "account_snapshots", names, SINCE, UNTIL)["masto"][0].followers == 1000
    assert _both(twins, "follower_event_counts", names, SINCE, UNTIL) == {
        "masto": {"join": 60, "leave": 20}
    }
    assert len(_both(twins, "interactions", names, SINCE, UNTIL)) == 10
    assert len(_both(twins, "conversions_for", ["launch", "tips", "none"])) == 4
    assert _both(twins, "conversions_for", []) == []


def test_conversions_are_read_in_chunks(
    store: Store, twins: tuple[StoreReportSource, SqliteReportSource]
) -> None:
    from crosspost.report_rows import ConversionRow
    from crosspost.store.conversions import upsert_conversions

    rows = [ConversionRow(f"c{n}", "x", "", "2024-03-05", n) for n in range(1200)]
    upsert_conversions(store, rows, "ga.csv", at(18))
    found = _both(twins, "conversions_for", [f"c{n}" for n in range(0, 1300, 2)])
    assert len(found) == 600


def test_the_snapshots_picked_at_the_edges_of_the_first_day(
    snapshots: Store,
) -> None:
    """Ties, exactly 24 h, microseconds: the SQL of both picks the same snapshots."""
    twin = open_sqlite_report(snapshots.url)
    assert twin is not None
    for since, until in PERIODS:
        found = twin.post_reactions(since, until, ["masto"])
        assert found == StoreReportSource(snapshots).post_reactions(since, until, ["masto"])
    assert len(twin.post_reactions(None, None, ["masto"])) == 8
    twin.close()


def test_answers_and_questions_are_read_alike(
    store: Store, twins: tuple[StoreReportSource, SqliteReportSource]
) -> None:
    b = Builder(store)
    marks: list[dict[str, Any] | None] = [None, {"question": True}, {"question": "yes"}, {}]
    for n in range(len(marks)):
        b.said("masto", "mastodon", "mention", f"m{n}", at(6, n))
    with sqlite3.connect(store.url.removeprefix("sqlite:///")) as connection:
        for n, raw in enumerate(marks):
            value = None if raw is None else json.dumps(raw)
            connection.execute("UPDATE interaction SET raw = ? WHERE author = ?", (value, f"m{n}"))
        connection.execute("UPDATE interaction SET raw = 'null' WHERE author = 'm3'")
        first = connection.execute("SELECT min(id) FROM interaction").fetchone()[0]
    b.post("masto", f"reply:{first}", "r", at(6, 5))
    b.post("masto", f"reply:{first}", "r", at(6, 4))  # the earlier of two answers counts
    b.post("masto", "reply:not-a-number", "r", at(6, 4))
    items = _both(twins, "received_items", ["masto"], SINCE, UNTIL)
    assert [i.flagged_question for i in items if i.text == ""][:4] == [False, True, False, False]
    assert items[0].first_answer == at(6, 4)


def test_every_query_of_the_twins_is_bounded_by_since(
    fixture: dict[str, int], store: Store
) -> None:
    """As the store's (tests/test_report_sql.py): a long history costs the report nothing."""
    seen: list[tuple[str, list[Any]]] = []
    connection = sqlite3.connect(store.url.removeprefix("sqlite:///"))

    class Recording:
        def execute(self, statement: str, values: list[Any] = []) -> Any:  # noqa: B006
            seen.append((statement, list(values)))
            return connection.execute(statement, values)

        def close(self) -> None:
            connection.close()

    source = SqliteReportSource(Recording())  # type: ignore[arg-type]
    build_report(source, query(), at(18, 12))
    source.close()
    dated = [(s, v) for s, v in seen if "FROM conversion" not in s]
    assert len(dated) >= 7  # posts, snapshots, followers (2), events, member content, answers
    bound = SINCE.strftime("%Y-%m-%d %H:%M:%S.%f")
    assert all(bound in values for _statement, values in dated)


def test_a_file_behind_the_newest_schema_is_left_to_the_store(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    assert open_sqlite_report(f"sqlite:///{path}") is None
    assert not path.exists()
    assert open_sqlite_report("postgresql://db.example/crosspost") is None
    Store(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'r019'")
    assert open_sqlite_report(f"sqlite:///{path}") is None


@pytest.mark.parametrize("fmt", ["json", "csv", "html", "table"])
def test_the_command_writes_the_same_report_either_way(
    project: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    store = project.store()
    b = Builder(store)
    now = datetime.now().astimezone()
    for n in range(6):
        post = b.post("website-feed", "launch", "hello", now - timedelta(days=n + 1, hours=n))
        b.metrics(post, now - timedelta(days=n), likes=3 * n, reposts=n)
        b.followers("website-feed", now - timedelta(days=n), 100 + n)
    b.said("website-feed", "feed", "mention", "ada", now - timedelta(days=2))
    store.close()
    period = ("--since", (now - timedelta(days=30)).isoformat(), "--until", now.isoformat())
    written, read_by = [], []
    real_read = StoreReportSource.published_posts

    def by_the_store(source: StoreReportSource, *args: Any) -> Any:
        read_by.append("store")
        return real_read(source, *args)

    monkeypatch.setattr(StoreReportSource, "published_posts", by_the_store)
    for read_by_the_store in (False, True):
        if read_by_the_store:
            monkeypatch.setattr(
                "crosspost.reporting.report_sqlite.open_sqlite_report", lambda url: None
            )
        out = tmp_path / f"{read_by_the_store}"
        out.mkdir()
        with time_machine.travel(now, tick=False):  # both say they were made at one time
            result = invoke(project, "report", "--format", fmt, *period, "--output", str(out))
        assert result.exit_code == 0, result.output
        written.append(
            {
                p.name: p.read_text(encoding="utf-8").replace(str(out), "")
                for p in sorted(out.iterdir())
            }
        )
    assert read_by == ["store"]  # the first run read the file itself
    assert written[0] == written[1] and written[0]


def test_a_file_that_is_not_a_database_is_the_stores_to_explain(
    project: AppContext, tmp_path: Path
) -> None:
    (tmp_path / "cli.db").write_text("not a database", encoding="utf-8")
    result = invoke(project, "report")
    assert result.exit_code == 1
    assert "cannot open the database" in result.output and "file is not a database" in result.output
