"""A simulated month of metric collection against a fake batching platform.

Counts calls and batch sizes, never time: the collector runs on a fake clock.
Used by the aligned-batching tests and by ``benchmarks/collect.py``.

The collector runs as in the daemon, a round a minute (``every``), but only the
minutes at which something changes are simulated: a step's window opens, the step
falls due, or its window is about to close. What a round decides depends on nothing
else, so the other minutes would call nothing and write nothing. Every post is stored
as published from the start, so the collector sees the posts to come as company (in
production a post counts once it is published).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar
from unittest import mock

from sqlmodel import Session, col, select

from connectors.base import BaseConnector, Limits, Metrics
from crosspost.collecting.metric_batches import Window
from crosspost.collecting.metrics import MetricsCollector
from crosspost.collecting.metrics_due import metric_steps
from crosspost.loading import registry
from crosspost.loading.project import Project, load_project
from crosspost.store import PlannedRow, Store
from crosspost.store.models import MetricSnapshot
from crosspost.store.records import Sent

__all__ = [
    "BatchingFake",
    "Month",
    "batching_platform",
    "batching_project",
    "fewest_calls",
    "published",
    "simulate_month",
    "spread",
    "together",
]

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


class BatchingFake(BaseConnector):
    """A platform answering at most ``batch`` ids per call (Bluesky 25, X 100)."""

    name: ClassVar[str] = "batchingfake"
    limits: ClassVar[Limits] = Limits(max_length=500)
    batch: ClassVar[int] = 25
    metrics_batch: ClassVar[int] = batch
    #: The number of ids of every call made, in order.
    calls: ClassVar[list[int]] = []

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        ids = list(remote_ids)
        for start in range(0, len(ids), self.batch):
            BatchingFake.calls.append(len(ids[start : start + self.batch]))
        return {rid: Metrics(likes=len(rid)) for rid in ids}


@dataclass(frozen=True)
class Month:
    """What 30 simulated days of collection did."""

    posts: int
    #: Batch size of every call.
    calls: list[int]
    #: The steps (seconds) recorded on each post's snapshots, by publication id.
    steps: dict[int, list[int]]
    #: Each snapshot's step and how long after its post it was taken.
    taken: list[tuple[timedelta, timedelta]]

    @property
    def calls_per_post(self) -> float:
        """Metric calls per post over the month."""
        return len(self.calls) / self.posts


def together(posts: int) -> list[timedelta]:
    """Publication offsets: every post in the same minute."""
    return [timedelta(0)] * posts


def spread(posts: int, minutes: int) -> list[timedelta]:
    """Publication offsets: ``posts`` spread evenly over ``minutes``."""
    return [timedelta(minutes=n * minutes // posts) for n in range(posts)]


@contextmanager
def batching_platform() -> Iterator[None]:
    """Make ``batchingfake`` a connector name, with its call log emptied."""
    real = registry.load
    BatchingFake.calls = []
    fake = {BatchingFake.name: BatchingFake}
    with mock.patch.object(registry, "load", lambda name: fake.get(name) or real(name)):
        yield


def simulate_month(
    folder: Path,
    offsets: list[timedelta],
    window: Window | None = None,
    metrics_after: str | None = None,
) -> Month:
    """Publish a post at ``T0 + offset`` for each offset and collect for 30 days
    (``metrics_after``: the account's own steps, as written in YAML)."""
    window = window or Window()
    store = Store(f"sqlite:///{folder / 'month.db'}")
    with batching_platform():
        project = batching_project(folder, metrics_after)
        ids = [published(store, f"post-{n}", T0 + offset) for n, offset in enumerate(offsets)]
        publication_times = {pid: T0 + offset for pid, offset in zip(ids, offsets, strict=True)}
        now = [T0]
        collector = MetricsCollector(store, project, lambda: now[0], thin=False, window=window)
        for tick in _ticks(offsets, metric_steps(project, "a"), window):
            now[0] = tick
            collector.run_due()
        calls = list(BatchingFake.calls)
    snapshots = [s for s in _snapshots(store) if s.publication_id in publication_times]
    store.close()
    steps: dict[int, list[int]] = {}
    taken = []
    for snapshot in snapshots:
        steps.setdefault(snapshot.publication_id, []).append(snapshot.step or 0)
        age = snapshot.collected_at.replace(tzinfo=UTC) - publication_times[snapshot.publication_id]
        taken.append((timedelta(seconds=snapshot.step or 0), age))
    return Month(len(offsets), calls, steps, taken)


def fewest_calls(
    offsets: list[timedelta],
    steps: list[timedelta],
    window: Window | None = None,
    batch: int = BatchingFake.batch,
) -> int:
    """The fewest calls any schedule needs to take every step of every post inside its
    window, with a round a minute (posts of one id, windows of one post not overlapping).

    The classic greedy, optimal for covering windows with calls of a fixed capacity: a
    call in the last round before the first open window closes, taking the windows that
    close first.
    """
    window = window or Window()
    windows = sorted(
        (
            math.ceil((offset + step - step * window.early) / MINUTE),
            math.floor((offset + step + window.lateness(step)) / MINUTE),
        )
        for offset in offsets
        for step in steps
    )
    open_closing: list[int] = []
    calls = taken = 0
    while taken < len(windows) or open_closing:
        if not open_closing:
            heapq.heappush(open_closing, windows[taken][1])
            taken += 1
        while taken < len(windows) and windows[taken][0] <= open_closing[0]:
            heapq.heappush(open_closing, windows[taken][1])
            taken += 1
        for _ in range(min(batch, len(open_closing))):
            heapq.heappop(open_closing)
        calls += 1
    return calls


def batching_project(folder: Path, metrics_after: str | None = None) -> Project:
    """A project whose account ``a`` uses :class:`BatchingFake` (in :func:`batching_platform`),
    with its own ``metrics_after`` if given."""
    schedule = folder / "schedule.yaml"
    own = f", metrics_after: {metrics_after}" if metrics_after is not None else ""
    schedule.write_text(
        f"timezone: UTC\naccounts:\n  a: {{connector: batchingfake{own}}}\n"
        "content:\n  - {id: hello, body: Hello.}\nposts: []\n",
        encoding="utf-8",
    )
    return load_project(schedule)


def _ticks(offsets: list[timedelta], steps: list[timedelta], window: Window) -> list[datetime]:
    """The minutes (from T0) at which some step's window opens, the step falls due, or its
    window is about to close (the last minute before it does)."""
    minutes = set()
    for offset in set(offsets):
        for step in steps:
            due = offset + step
            minutes.add(math.ceil((due - step * window.early) / MINUTE))
            minutes.add(math.ceil(due / MINUTE))
            minutes.add(math.floor((due + window.lateness(step)) / MINUTE))
    return [T0 + MINUTE * minute for minute in sorted(minutes) if minute >= 0]


def published(store: Store, remote_id: str, at: datetime) -> int:
    """A publication of account ``a`` published at ``at`` as ``remote_id``; its id."""
    row = PlannedRow("e", remote_id, "a", "hello", at, at + timedelta(hours=1))
    publication = store.add_oneoff(row, now=at)
    assert publication is not None and publication.id is not None
    store.claim(publication.id, "sim", timedelta(minutes=5), at)
    store.finish(publication.id, "sim", at, Sent(remote_id, None, at))
    return publication.id


def _snapshots(store: Store) -> list[MetricSnapshot]:
    with Session(store.engine) as session:
        return list(session.exec(select(MetricSnapshot).order_by(col(MetricSnapshot.id))))
