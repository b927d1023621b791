"""Collection in batches: one transaction per batch, aligned steps, inbox backoff on restarts.

The store tests run on SQLite and on PostgreSQL (127.0.0.1:5432, see tests/test_store.py).
Call counts over a simulated month come from :mod:`tests.collect_sim` (a fake clock).
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event
from sqlmodel import Session, col, select

from connectors.base import FollowerRef, InboxItem, Metrics
from crosspost.collecting.metric_batches import Window, account_batch, next_step
from crosspost.collecting.metrics import MetricsCollector
from crosspost.store import Store
from crosspost.store.collect import (
    Candidate,
    NewSnapshot,
    add_metric_snapshot,
    add_metric_snapshots,
)
from crosspost.store.collect_audience import apply_followers
from crosspost.store.collect_inbox import save_inbox
from crosspost.store.models import FollowerEvent, Interaction, MetricSnapshot
from tests.collect_sim import (
    BatchingFake,
    batching_platform,
    batching_project,
    fewest_calls,
    published,
    simulate_month,
    spread,
    together,
)
from tests.fakes import FakeClock
from tests.test_store import pg_url  # noqa: F401  (the PostgreSQL fixture)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
#: ``metrics.after`` by default.
EVERY_STEP = [timedelta(seconds=s) for s in (900, 3600, 21600, 86400, 259200, 604800, 2592000)]


@pytest.fixture
def store(each_store: Store) -> Store:
    """A migrated store on each database (SQLite, PostgreSQL)."""
    return each_store


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
    # the snapshots in one; the account's lease is written, taken and given back in three
    assert statements.commits == 1 + 3
    assert statements.inserts == ["account_claim", "metric_snapshot"]


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
        window = Window(align=0.1, early=0.1, late=0.0)
        collector = MetricsCollector(store, project, clock, thin=False, window=window)
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


def test_a_fallen_step_waits_while_company_is_coming(tmp_path: Path, store: Store) -> None:
    with batching_platform():
        project = batching_project(tmp_path)
        first = published(store, "first", T0)
        second = published(store, "second", T0 + 6 * MINUTE)  # its 15 min step: at 21 min
        clock = FakeClock(T0 + 15 * MINUTE)  # the first's falls due; it may wait 7.5 min
        collector = MetricsCollector(store, project, clock, thin=False)
        collector.run_due()  # the second may fill the batch from 16.5 min (30% early)
        assert BatchingFake.calls == []
        clock.set(T0 + 17 * MINUTE)  # it can: nobody else is coming, so both go now
        collector.run_due()
    assert BatchingFake.calls == [2]
    assert _steps(store) == [(first, 900), (second, 900)]


def test_a_post_without_company_is_collected_when_its_step_falls_due(
    tmp_path: Path, store: Store
) -> None:
    with batching_platform():
        project = batching_project(tmp_path)
        alone = published(store, "alone", T0)
        published(store, "later", T0 + timedelta(hours=2))  # its 15 min step: far off
        MetricsCollector(store, project, FakeClock(T0 + 15 * MINUTE), thin=False).run_due()
    assert BatchingFake.calls == [1]
    assert _steps(store) == [(alone, 900)]


def test_early_posts_only_fill_the_room_left_in_the_last_call(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(BatchingFake, "batch", 2)
    monkeypatch.setattr(BatchingFake, "metrics_batch", 2)
    with batching_platform():
        project = batching_project(tmp_path)
        ids = [published(store, f"p{n}", T0 + n * MINUTE) for n in range(3)]
        clock = FakeClock(T0 + 15 * MINUTE)  # the others' steps: 1 and 2 min ahead
        collector = MetricsCollector(store, project, clock, thin=False)
        collector.run_due()
        assert BatchingFake.calls == [2]  # room for one: the nearest
        clock.set(T0 + 17 * MINUTE)
        collector.run_due()
    assert BatchingFake.calls == [2, 1]
    assert _steps(store) == [(ids[0], 900), (ids[1], 900), (ids[2], 900)]


def test_one_id_per_call_never_waits_nor_collects_early(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(BatchingFake, "batch", 1)
    monkeypatch.setattr(BatchingFake, "metrics_batch", 1)
    with batching_platform():
        project = batching_project(tmp_path)
        first = published(store, "first", T0)
        published(store, "second", T0 + MINUTE)
        MetricsCollector(store, project, FakeClock(T0 + 15 * MINUTE), thin=False).run_due()
    assert BatchingFake.calls == [1]
    assert _steps(store) == [(first, 900)]


def _steps(store: Store) -> list[tuple[int, int | None]]:
    with Session(store.engine) as session:
        rows = session.exec(select(MetricSnapshot).order_by(col(MetricSnapshot.id))).all()
    return sorted((r.publication_id, r.step) for r in rows)


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


def test_posts_one_a_minute_stay_at_0_3_calls_per_post_within_the_windows(
    tmp_path: Path,
) -> None:
    month = simulate_month(tmp_path, spread(100, 100))
    assert len(month.calls) == 30  # 0.49 with a 25% window and no waiting, 0.78 with 10%
    every_step = [900, 3600, 21600, 86400, 259200, 604800, 2592000]
    assert all(steps == every_step for steps in month.steps.values())
    assert len(month.steps) == 100
    assert len(month.calls) == fewest_calls(spread(100, 100), EVERY_STEP)
    window = Window()
    for step, age in month.taken:  # the schedule's meaning: each step near its age
        assert step * (1 - window.early) <= age <= step + window.lateness(step)


def test_the_old_window_took_more_calls_one_a_minute(tmp_path: Path) -> None:
    old = Window(align=0.25, early=0.25, late=0.0)  # join within 25%, never wait
    assert len(simulate_month(tmp_path, spread(100, 100), old).calls) == 49


# --------------------------------------------------------------------------- windows kept


def test_a_fallen_step_waits_for_company_in_the_last_round_inside_its_window(
    tmp_path: Path, store: Store
) -> None:
    with batching_platform():
        project = batching_project(tmp_path)
        first = published(store, "first", T0)  # its 15 min window closes at 22.5 min
        second = published(store, "second", T0 + 11 * MINUTE)  # its window opens at 21.5 min
        clock = FakeClock(T0 + 15 * MINUTE)
        collector = MetricsCollector(store, project, clock, thin=False, every=MINUTE)
        collector.run_due()
        assert BatchingFake.calls == []
        clock.set(T0 + 22 * MINUTE)  # the last round inside the first's window
        collector.run_due()
    assert BatchingFake.calls == [2]
    assert _steps(store) == [(first, 900), (second, 900)]


def test_a_fallen_step_does_not_wait_for_company_after_the_last_round_inside_its_window(
    tmp_path: Path, store: Store
) -> None:
    with batching_platform():
        project = batching_project(tmp_path)
        first = published(store, "first", T0)  # its 15 min window closes at 22.5 min
        published(store, "second", T0 + 11 * MINUTE)  # its window opens at 21.5 min
        clock = FakeClock(T0 + 15 * MINUTE)
        # rounds 2 minutes apart: the last inside the first's window is at 21 min
        MetricsCollector(store, project, clock, thin=False, every=2 * MINUTE).run_due()
    assert BatchingFake.calls == [1]
    assert _steps(store) == [(first, 900)]


def test_a_single_round_lets_no_fallen_step_wait(tmp_path: Path, store: Store) -> None:
    with batching_platform():
        project = batching_project(tmp_path)
        first = published(store, "first", T0)
        published(store, "second", T0 + 6 * MINUTE)  # company from 16.5 min
        clock = FakeClock(T0 + 15 * MINUTE)
        MetricsCollector(store, project, clock, thin=False, every=None).run_due()
    assert BatchingFake.calls == [1]
    assert _steps(store) == [(first, 900)]


def test_the_room_left_goes_to_the_windows_closing_first(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(BatchingFake, "batch", 2)
    monkeypatch.setattr(BatchingFake, "metrics_batch", 2)
    with batching_platform():
        project = batching_project(tmp_path)
        due = published(store, "due", T0)  # 15 min step: due at 15 min, closes at 22.5
        hour = published(store, "hour", T0 - 44 * MINUTE)  # 1 h step: due at 16, closes at 46
        add_metric_snapshot(
            store, MetricSnapshot(publication_id=hour, collected_at=T0 - 29 * MINUTE, step=900)
        )
        quarter = published(store, "quarter", T0 + 2 * MINUTE)  # due at 17, closes at 24.5
        MetricsCollector(store, project, FakeClock(T0 + 15 * MINUTE), thin=False).run_due()
    # nobody else is coming: the call goes at once, its room to the window closing first
    assert BatchingFake.calls == [2]
    assert _steps(store) == sorted([(due, 900), (hour, 900), (quarter, 900)])  # hour's: stored


@pytest.mark.parametrize(("posts", "minutes"), [(40, 60), (40, 24 * 60), (30, 10 * 24 * 60)])
def test_every_step_of_every_post_is_taken_once_inside_its_window(
    tmp_path: Path, posts: int, minutes: int
) -> None:
    rng = random.Random(posts * minutes)
    offsets = sorted(timedelta(minutes=rng.randrange(minutes)) for _ in range(posts))
    month = simulate_month(tmp_path, offsets)
    assert len(month.steps) == posts
    assert all(
        steps == [int(s.total_seconds()) for s in EVERY_STEP] for steps in month.steps.values()
    )
    window = Window()
    for step, age in month.taken:
        assert step * (1 - window.early) <= age <= step + window.lateness(step)
    assert max(month.calls) <= BatchingFake.batch
    assert len(month.calls) == fewest_calls(offsets, EVERY_STEP)


@pytest.mark.parametrize(
    ("own", "steps", "calls"),
    [
        ("[30d]", [timedelta(days=30)], 3),
        ("[7d, 30d]", [timedelta(days=7), timedelta(days=30)], 12),
    ],
)
def test_an_account_s_own_steps_keep_sparse_posts_at_the_fewest_calls(
    tmp_path: Path, own: str, steps: list[timedelta], calls: int
) -> None:
    offsets = spread(30, 30 * 24 * 60)  # one post a day: 96 calls with every step
    month = simulate_month(tmp_path, offsets, metrics_after=own)
    assert all(taken == [int(s.total_seconds()) for s in steps] for taken in month.steps.values())
    assert len(month.steps) == 30
    assert len(month.calls) == calls == fewest_calls(offsets, steps)
    window = Window()
    for step, age in month.taken:
        assert step * (1 - window.early) <= age <= step + window.lateness(step)


SHORT_STEPS = [timedelta(minutes=15), timedelta(hours=1), timedelta(hours=6)]


@settings(max_examples=40, deadline=None)
@given(
    minutes=st.lists(st.integers(min_value=0, max_value=180), min_size=1, max_size=15),
    batch=st.integers(min_value=1, max_value=5),
    known_ahead=st.booleans(),
)
def test_rounds_a_minute_apart_take_every_step_in_its_window_in_the_fewest_calls(
    minutes: list[int], batch: int, known_ahead: bool
) -> None:
    offsets = [timedelta(minutes=m) for m in minutes]
    calls, taken = _rounds_a_minute_apart(offsets, SHORT_STEPS, batch, known_ahead)
    window = Window()
    for n in range(len(offsets)):
        assert [step for post, step, _ in taken if post == n] == SHORT_STEPS
    for _post, step, age in taken:
        assert step * (1 - window.early) <= age <= step + window.lateness(step)
    fewest = fewest_calls(offsets, SHORT_STEPS, window, batch)
    # a post not published yet cannot be waited for: a step may go alone just before it
    assert calls == fewest if known_ahead else calls >= fewest


def _rounds_a_minute_apart(
    offsets: list[timedelta], steps: list[timedelta], batch: int, known_ahead: bool
) -> tuple[int, list[tuple[int, timedelta, timedelta]]]:
    """What the collector's choice does with a round every minute: the calls made, and
    each snapshot's post, step and age. ``known_ahead``: posts are candidates before they
    are published (as in tests/collect_sim.py), else from then on (as in production)."""
    posts = {n: Candidate(n, "a", f"p{n}", T0 + o, None) for n, o in enumerate(offsets)}
    calls, taken = 0, []
    for minute in range(int((max(offsets) + steps[-1] * 2) / MINUTE)):
        now = T0 + minute * MINUTE
        waiting = []
        for post in posts.values():
            first = next_step(post.published_at, post.last_collected_at, steps, post.last_step)
            if (known_ahead or post.published_at <= now) and first is not None:
                waiting.append((post, first))
        chosen = account_batch(waiting, steps, now, Window(), batch, MINUTE)
        calls += -(-len(chosen) // batch)
        for due in chosen:
            post = due.candidate
            posts[post.publication_id] = replace(post, last_collected_at=now, last_step=due.step)
            taken.append((post.publication_id, due.step, now - post.published_at))
    return calls, taken
