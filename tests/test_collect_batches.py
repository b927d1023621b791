"""Collection in batches: one transaction per batch, aligned steps, inbox backoff on restarts.

The store tests run on SQLite and on PostgreSQL (127.0.0.1:5432, see tests/test_store.py).
Call counts over a simulated month come from :mod:`tests.collect_sim` (a fake clock).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import Session, col, select

from connectors.base import FollowerRef, InboxItem, Metrics
from crosspost.metrics import MetricsCollector
from crosspost.store import Store
from crosspost.store.collect import (
    NewSnapshot,
    add_metric_snapshot,
    add_metric_snapshots,
    apply_followers,
    save_inbox,
)
from crosspost.store.models import FollowerEvent, Interaction, MetricSnapshot
from tests.collect_sim import (
    BatchingFake,
    batching_platform,
    batching_project,
    published,
    simulate_month,
    spread,
    together,
)
from tests.fakes import FakeClock
from tests.test_store import pg_url  # noqa: F401  (the PostgreSQL fixture)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = f"sqlite:///{tmp_path}/batches.db"
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
    opened = Store(url)
    try:
        yield opened
    finally:
        opened.close()


class Statements:
    """Counts the commits and the INSERT statements an engine runs."""

    def __init__(self, store: Store) -> None:
        self.commits = 0
        self.inserts: list[str] = []
        event.listen(store.engine, "commit", self._commit)
        event.listen(store.engine, "before_cursor_execute", self._execute)

    def _commit(self, _connection: Any) -> None:
        self.commits += 1

    def _execute(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT"):
            self.inserts.append(statement.split("(")[0].split()[-1])


def stored(store: Store) -> list[tuple[int, int, int | None]]:
    with Session(store.engine) as session:
        query = select(MetricSnapshot).order_by(col(MetricSnapshot.id))
        return [(s.publication_id, s.collected_at.hour, s.likes) for s in session.exec(query)]


def series(publication_ids: list[int]) -> list[MetricSnapshot]:
    """Interleaved hourly snapshots of several posts: flat runs, changes, flat again."""
    likes = [1, 1, 1, 1, 2, 2, 2, 5]
    return [
        MetricSnapshot(publication_id=pid, collected_at=T0 + timedelta(hours=hour), likes=count)
        for hour, count in enumerate(likes)
        for pid in publication_ids
    ]


def new(snapshot: MetricSnapshot) -> NewSnapshot:
    metrics = Metrics(likes=snapshot.likes)
    return NewSnapshot(snapshot.publication_id, snapshot.collected_at, metrics)


# --------------------------------------------------------------------------- writes


def test_a_batch_keeps_the_same_snapshots_as_one_by_one(tmp_path: Path, store: Store) -> None:
    ids = [published(store, f"p{n}", T0) for n in range(3)]
    for snapshot in series(ids):
        add_metric_snapshot(store, snapshot)
    one_by_one = stored(store)
    other = Store(f"sqlite:///{tmp_path / 'other.db'}")
    other_ids = [published(other, f"p{n}", T0) for n in range(3)]
    assert other_ids == ids
    statements = Statements(other)
    thinned = add_metric_snapshots(other, [new(s) for s in series(ids)])
    assert stored(other) == one_by_one
    assert thinned == 3 * 8 - len(one_by_one)
    assert statements.commits == 1
    assert statements.inserts == ["metric_snapshot"]


def test_a_batch_thins_against_the_stored_series(store: Store) -> None:
    pid = published(store, "p", T0)
    first, *rest = series([pid])
    add_metric_snapshots(store, [new(first), new(rest[0])])
    add_metric_snapshots(store, [new(s) for s in rest[1:]])
    assert [likes for _, _, likes in stored(store)] == [1, 1, 2, 2, 5]


def test_a_collect_round_writes_its_snapshots_in_one_transaction(
    tmp_path: Path, store: Store
) -> None:
    with batching_platform():
        project = batching_project(tmp_path)
        for n in range(60):
            published(store, f"p{n}", T0)
        statements = Statements(store)
        report = MetricsCollector(store, project, FakeClock(T0 + 15 * MINUTE)).run_due()
    assert report.accounts[0].posts == 60
    assert BatchingFake.calls == [25, 25, 10]
    assert statements.commits == 1
    assert statements.inserts == ["metric_snapshot"]


def test_follower_changes_are_one_transaction(store: Store) -> None:
    refs = [FollowerRef(f"id{n}", f"@f{n}") for n in range(300)]
    apply_followers(store, "m", refs[:200], T0)
    statements = Statements(store)
    diff = apply_followers(store, "m", refs[100:], T0 + timedelta(days=1))
    assert (len(diff.joins), len(diff.leaves)) == (100, 100)
    assert statements.commits == 1
    assert sorted(statements.inserts) == ["follower", "follower_event"]
    with Session(store.engine) as session:
        events = session.exec(select(FollowerEvent)).all()
    assert sorted(e.kind for e in events) == ["join"] * 100 + ["leave"] * 100


def item(number: int) -> InboxItem:
    return InboxItem(
        remote_id=str(number),
        kind="mention",
        author=f"@m{number}",
        author_id=None,
        text="hi",
        url=None,
        created_at=T0,
    )


def test_inbox_items_are_one_insert_and_stored_once(store: Store) -> None:
    statements = Statements(store)
    assert save_inbox(store, "alpha", "x", [item(n) for n in range(50)], "49", T0) == 50
    assert statements.commits == 1
    assert statements.inserts == ["interaction", "collect_cursor"]
    assert save_inbox(store, "alpha", "x", [item(n) for n in range(40, 60)], "59", T0) == 10
    with Session(store.engine) as session:
        assert len(session.exec(select(Interaction)).all()) == 60


# --------------------------------------------------------------------------- aligned steps


def test_a_post_within_its_window_joins_the_batch_of_a_due_post(
    tmp_path: Path, store: Store
) -> None:
    with batching_platform():
        project = batching_project(tmp_path)
        due = published(store, "due", T0)
        near = published(store, "near", T0 + MINUTE)  # its 15 min step is 1 min off
        far = published(store, "far", T0 + 3 * MINUTE)  # 3 min off: beyond 10% of 15 min
        clock = FakeClock(T0 + 15 * MINUTE)
        collector = MetricsCollector(store, project, clock, thin=False)
        collector.run_due()
        assert BatchingFake.calls == [2]
        clock.set(T0 + 16 * MINUTE)  # "near" falls due now: already covered
        collector.run_due()
        assert BatchingFake.calls == [2]
        clock.set(T0 + 18 * MINUTE)
        collector.run_due()
    assert BatchingFake.calls == [2, 1]
    with Session(store.engine) as session:
        rows = session.exec(select(MetricSnapshot).order_by(col(MetricSnapshot.id))).all()
    assert [(r.publication_id, r.step) for r in rows] == [(due, 900), (near, 900), (far, 900)]


def test_a_snapshot_without_a_step_still_covers_by_its_time(tmp_path: Path, store: Store) -> None:
    with batching_platform():
        project = batching_project(tmp_path)
        pid = published(store, "old", T0)
        legacy = MetricSnapshot(publication_id=pid, collected_at=T0 + 20 * MINUTE, likes=1)
        add_metric_snapshot(store, legacy)  # written before steps were recorded
        collector = MetricsCollector(store, project, FakeClock(T0 + 30 * MINUTE))
        collector.run_due()
    assert BatchingFake.calls == []


def test_posts_published_together_take_7_calls_per_25_posts(tmp_path: Path) -> None:
    month = simulate_month(tmp_path, together(100))
    assert len(month.calls) == 28
    assert month.calls_per_post <= 0.3


def test_spread_posts_stay_at_0_3_calls_per_post_over_30_days(tmp_path: Path) -> None:
    # One post every 6 seconds for 10 minutes: collected a tick apart, the same
    # posts took 70 calls (0.7 per post) when batches only formed within a tick.
    month = simulate_month(tmp_path, spread(100, 10))
    assert month.calls_per_post <= 0.3
    assert max(month.calls) <= BatchingFake.batch
    every_step = [900, 3600, 21600, 86400, 259200, 604800, 2592000]
    assert all(steps == every_step for steps in month.steps.values())
    assert len(month.steps) == 100
