"""A simulated month of metric collection against a fake batching platform.

Counts calls and batch sizes, never time: the collector runs on a fake clock.
Used by the aligned-batching tests and by ``benchmarks/collect.py``.

The collector is run at every minute at which some post's step falls due (the
daemon runs it every minute; a round in which no step has fallen due calls
nothing and writes nothing, so the other minutes can be skipped).
"""

from __future__ import annotations

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
from crosspost import registry
from crosspost.metrics import MetricsCollector
from crosspost.project import Project, load_project
from crosspost.store import PlannedRow, Store
from crosspost.store.models import MetricSnapshot
from crosspost.store.records import Sent

__all__ = [
    "BatchingFake",
    "Month",
    "batching_platform",
    "batching_project",
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


def simulate_month(folder: Path, offsets: list[timedelta], align: float = 0.1) -> Month:
    """Publish a post at ``T0 + offset`` for each offset and collect for 30 days."""
    store = Store(f"sqlite:///{folder / 'month.db'}")
    with batching_platform():
        project = batching_project(folder)
        ids = [published(store, f"post-{n}", T0 + offset) for n, offset in enumerate(offsets)]
        now = [T0]
        collector = MetricsCollector(store, project, lambda: now[0], thin=False, align=align)
        for tick in _ticks(offsets, sorted(project.schedule.metrics.after)):
            now[0] = tick
            collector.run_due()
        calls = list(BatchingFake.calls)
    steps = {pid: store_steps for pid, store_steps in _recorded_steps(store).items() if pid in ids}
    store.close()
    return Month(len(offsets), calls, steps)


def batching_project(folder: Path) -> Project:
    """A project whose account ``a`` uses :class:`BatchingFake` (in :func:`batching_platform`)."""
    schedule = folder / "schedule.yaml"
    schedule.write_text(
        "timezone: UTC\naccounts:\n  a: {connector: batchingfake}\n"
        "content:\n  - {id: hello, body: Hello.}\nposts: []\n",
        encoding="utf-8",
    )
    return load_project(schedule)


def _ticks(offsets: list[timedelta], steps: list[timedelta]) -> list[datetime]:
    """The minutes (from T0) at which some step falls due."""
    minutes = {math.ceil((offset + step) / MINUTE) for offset in set(offsets) for step in steps}
    return [T0 + MINUTE * minute for minute in sorted(minutes)]


def published(store: Store, remote_id: str, at: datetime) -> int:
    """A publication of account ``a`` published at ``at`` as ``remote_id``; its id."""
    row = PlannedRow("e", remote_id, "a", "hello", at, at + timedelta(hours=1))
    publication = store.add_oneoff(row, now=at)
    assert publication is not None and publication.id is not None
    store.claim(publication.id, "sim", timedelta(minutes=5), at)
    store.finish(publication.id, "sim", at, Sent(remote_id, None, at))
    return publication.id


def _recorded_steps(store: Store) -> dict[int, list[int]]:
    steps: dict[int, list[int]] = {}
    with Session(store.engine) as session:
        query = select(MetricSnapshot).order_by(col(MetricSnapshot.id))
        for snapshot in session.exec(query):
            steps.setdefault(snapshot.publication_id, []).append(snapshot.step or 0)
    return steps
