"""What deciding a queue's slots costs beside a large schedule.

``python -m benchmarks.queues`` writes a project of N daily cron entries (``CROSSPOST_BENCH_SIZES``,
default 1,000 and 10,000) for two folder accounts plus one queue of 50 items with four
slots a day and ``fill_gaps: 2h`` (the worst case: every slot looks at every entry of
its account), then prints the CPU seconds of

The entries fall between 01:00 and 05:00, away from every slot, so each slot looks at all
of them (a slot near a post stops at the first it finds).

* ``plan``: the queue's choices for 30 days (:func:`crosspost.planning.upcoming.queue_slots`), and
* ``daemon``: one slot decided as the publisher does (:func:`crosspost.planning.slots.decide`),
  with 1,000 earlier turns in the store.

CPU time (user + sys of this process), so other load on the machine does not count.
"""

from __future__ import annotations

import os
import resource
import tempfile
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crosspost.loading.project import load_project
from crosspost.planning.slots import QueuePlanner, decide
from crosspost.planning.upcoming import queue_slots
from crosspost.store import PlannedRow, Sent, Store

NOW = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(work: Callable[[], object]) -> float:
    start = _cpu()
    work()
    return _cpu() - start


def _project(folder: Path, entries: int) -> Path:
    items = "".join(f"  - {{id: tip-{n}, body: Tip number {n}.}}\n" for n in range(50))
    posts = "".join(
        f"  - {{id: e{n}, content: tip-0, to: [a, b], cron: '{n % 60} {1 + n % 4} * * *'}}\n"
        for n in range(entries)
    )
    text = textwrap.dedent(
        """\
        timezone: Europe/Kyiv
        accounts:
          a: {connector: folder, path: out/a}
          b: {connector: folder, path: out/b}
        queues:
          - id: tips
            to: [a, b]
            tags: []
            content: [%s]
            slots: [{times: ["08:00", "11:00", "15:00", "19:00"]}]
            cooldown: 7d
            fill_gaps: 2h
        """
    ) % ", ".join(f"tip-{n}" for n in range(50))
    path = folder / "schedule.yaml"
    path.write_text(text + "content:\n" + items + "posts:\n" + posts, encoding="utf-8")
    return path


def _history(store: Store, turns: int) -> None:
    rows = [
        PlannedRow("queue:tips", f"old-{n}", "a", f"tip-{n % 50}", due, due + timedelta(hours=1))
        for n in range(turns)
        for due in [NOW - timedelta(hours=6 * (turns - n))]
    ]
    store.add_planned(rows, NOW)
    for row in store.publications(accounts=["a"]):
        assert row.id is not None
        store.resolve(row.id, NOW, Sent(f"r{row.id}", None, NOW))


def run(entries: int) -> tuple[float, float, int]:
    """CPU seconds of 30 days of plan choices and of one daemon decision, and the slots."""
    with tempfile.TemporaryDirectory() as folder:
        project = load_project(_project(Path(folder), entries))
        store = Store(f"sqlite:///{folder}/bench.db")
        _history(store, 1_000)
        slots: list[object] = []

        def plan() -> None:
            planner = QueuePlanner(project, store, NOW)
            slots.extend(queue_slots(project, NOW, NOW + timedelta(days=30), planner))

        planned = _timed(plan)
        due = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # 08:00 in Kyiv
        decided = _timed(lambda: decide(project, store, "queue:tips", "x", "a", due))
        store.close()
    return planned, decided, len(slots)


def main() -> None:
    sizes = os.environ.get("CROSSPOST_BENCH_SIZES", "1000,10000")
    print("entries  slots  plan 30 d (CPU s)  one daemon decision (CPU s)")
    for size in (int(s) for s in sizes.split(",") if s.strip()):
        planned, decided, count = run(size)
        print(f"{size:>7}  {count:>5}  {planned:>17.2f}  {decided:>27.3f}")


if __name__ == "__main__":
    main()
