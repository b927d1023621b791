"""The report's queries: snapshots picked in SQL, and the period honoured by every query.

``post_reactions`` lets the database choose each post's latest and last first-day
snapshot; these tests hold it to a plain pass over every snapshot (what it replaced)
on SQLite and PostgreSQL, including the edges: ties, exactly 24 h, microseconds.
"""

from __future__ import annotations

import gc
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select

from crosspost.cli import report as report_cli
from crosspost.report_rows import PostReactions, ReactionSnapshot
from crosspost.reporting.report import build_report
from crosspost.reporting.report_json import report_data
from crosspost.store import Store
from crosspost.store.models import Interaction, MetricSnapshot, Publication
from crosspost.store.report_source import StoreReportSource
from crosspost.store.reports import post_reactions
from tests.report_sources import built_both_ways
from tests.test_report import SINCE, UNTIL, Builder, at, fixture, invoke, project, query
from tests.test_store import pg_url  # noqa: F401  (the PostgreSQL fixture)

__all__ = ["fixture", "project"]  # fixtures used here, imported from test_report

DAY = timedelta(hours=24)


@pytest.fixture
def store(each_store: Store) -> Store:
    """The report fixture's store, on SQLite and on PostgreSQL."""
    return each_store


def _by_a_pass_over_every_snapshot(store: Store) -> dict[int, PostReactions]:
    """The report's old way: read each snapshot of the period's posts, keep the last ones."""
    rows = select(
        MetricSnapshot.publication_id,
        MetricSnapshot.collected_at,
        MetricSnapshot.likes,
        MetricSnapshot.reposts,
        MetricSnapshot.replies,
        MetricSnapshot.quotes,
        MetricSnapshot.views,
        MetricSnapshot.bookmarks,
        Publication.published_at,
    ).join(Publication, Publication.id == MetricSnapshot.publication_id)  # type: ignore[arg-type]
    rows = rows.where(Publication.published_at >= SINCE, Publication.published_at < UNTIL)  # type: ignore[arg-type, operator]
    rows = rows.order_by(
        MetricSnapshot.publication_id, MetricSnapshot.collected_at, MetricSnapshot.id
    )  # type: ignore[arg-type]
    latest: dict[int, Any] = {}
    early: dict[int, Any] = {}
    with store.engine.connect() as connection:
        for row in connection.execute(rows):
            latest[row[0]] = row
            if row[8] < row[1] <= row[8] + DAY:
                early[row[0]] = row

    def snap(row: Any) -> ReactionSnapshot:
        return ReactionSnapshot(row[0], row[1].astimezone(UTC), *row[2:8])

    return {
        k: PostReactions(snap(r), snap(early[k]) if k in early else None) for k, r in latest.items()
    }


@pytest.fixture
def snapshots(each_store: Store) -> Store:
    """Posts with several snapshots each, some on the edges of the first day."""
    b = Builder(each_store)
    odd = at(5, 10).replace(microsecond=999_999)
    cases: list[tuple[datetime, list[tuple[timedelta, int]]]] = [
        (at(5, 10), [(timedelta(hours=h), h) for h in (1, 3, 6, 12, 24, 72, 168)]),
        (odd, [(DAY, 5), (DAY + timedelta(microseconds=1), 6), (timedelta(days=3), 7)]),
        (at(6, 23, 59), [(timedelta(0), 1), (DAY - timedelta(microseconds=1), 2), (DAY * 2, 3)]),
        (at(7, 1), [(timedelta(hours=2), 4), (timedelta(hours=2), 9), (timedelta(days=2), 8)]),
        (at(8), [(timedelta(days=2), 1), (timedelta(days=5), 2), (timedelta(days=5), 3)]),
        (at(9), []),  # no snapshot at all
        (at(9, 12), [(-timedelta(hours=1), 1), (timedelta(days=9), 2)]),
        (at(2), [(timedelta(days=3), 100)]),  # published before the period
        (at(17, 23), [(timedelta(days=4), 50)]),  # collected after it: still the latest
    ]
    for n, (published, taken) in enumerate(cases):
        post = b.post("masto", "e", f"c{n}", published)
        for after, likes in taken:
            b.metrics(post, published + after, likes=likes, reposts=likes // 2, views=likes * 9)
    return each_store


def test_sql_picks_the_snapshots_a_pass_over_all_of_them_picks(snapshots: Store) -> None:
    found = post_reactions(snapshots, SINCE, UNTIL, ["masto"])
    assert found == _by_a_pass_over_every_snapshot(snapshots)
    likes = sorted((r.latest.likes, r.early.likes if r.early else -1) for r in found.values())
    # 24 h exactly is the first day, 1 µs more is not; a tie goes to the later row;
    # a snapshot at the publishing time itself or before it is not "after publishing".
    assert likes == [(2, -1), (3, -1), (3, 2), (7, 5), (8, 9), (50, -1), (168, 24)]


def test_sql_snapshots_honour_the_accounts_and_an_open_period(snapshots: Store) -> None:
    assert post_reactions(snapshots, SINCE, UNTIL, ["sky"]) == {}
    everything = post_reactions(snapshots, None, None)
    assert len(everything) == 8  # the post published before the period too


class _Statements:
    """Every SELECT the store runs, with its parameters."""

    def __init__(self, store: Store) -> None:
        self.seen: list[tuple[str, Any]] = []
        event.listen(store.engine, "before_cursor_execute", self._record)

    def _record(self, _c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            self.seen.append((statement, parameters))


def _values(parameters: Any) -> list[Any]:
    return list(parameters.values() if isinstance(parameters, dict) else parameters)


def test_every_query_of_the_report_is_bounded_by_since(
    store: Store, fixture: dict[str, int]
) -> None:
    statements = _Statements(store)
    build_report(StoreReportSource(store), query(), at(18, 12))
    # conversions are matched to the period's posts by campaign, whatever their day
    dated = [(s, p) for s, p in statements.seen if "FROM conversion" not in s]
    assert len(dated) >= 7  # posts, snapshots, followers (2), events, member content, answers
    since = (SINCE, SINCE.strftime("%Y-%m-%d %H:%M:%S.%f"))  # PostgreSQL, SQLite
    for statement, parameters in dated:
        assert any(value in since for value in _values(parameters)), statement


def test_what_happened_before_since_changes_nothing(store: Store, fixture: dict[str, int]) -> None:
    before = report_data(built_both_ways(store, query(min_posts=1), at(18, 12)))
    b = Builder(store)
    old = b.post("masto", "tips", "tip-1", at(3, 9))
    b.metrics(old, at(5, 9), likes=10_000)  # collected in the period, published before it
    b.followers("masto", at(1) - timedelta(days=3), 7)  # older than the baseline
    b.said("masto", "mastodon", "mention", "early", at(3, 23))
    with store.engine.connect() as connection:
        early = connection.execute(select(func.max(Interaction.id))).scalar()
    b.post("masto", f"reply:{early}", "x", at(5, 8))  # its answer, in the period
    b.events("masto", "leave", at(2), 4)
    after = report_data(built_both_ways(store, query(min_posts=1), at(18, 12)))
    assert after == before
    assert before["posts"] and before["community"] and before["responses"]


def test_the_report_is_built_without_cyclic_collection(
    project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    original = report_cli.build_report

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return original(*args, **kwargs)

    monkeypatch.setattr(report_cli, "build_report", spy)
    assert gc.isenabled()
    result = invoke(project, "report", "--format", "json")
    assert result.exit_code == 0, result.output
    assert seen == [False] and gc.isenabled()


def test_the_terminal_table_lists_the_default_page_and_says_how_many(project: Any) -> None:
    store = project.store()
    b = Builder(store)
    now = datetime.now(UTC)
    for n in range(25):
        made_at = now - timedelta(days=2, minutes=n)
        b.metrics(b.post("archive", "e", f"c{n}", made_at), made_at + DAY, likes=n)
    store.close()
    table = invoke(project, "report", "--format", "plain").output
    assert "Posts (20 of 25 with the most reactions; CSV and JSON list all)" in table
    listed = table.split("Posts (20 of 25")[1].split("Member-written content")[0]
    shown = {int(n) for n in re.findall(r"\bc(\d+)\b", listed)}
    assert shown == set(range(5, 25))  # the 20 with the most likes; the 5 others hidden
