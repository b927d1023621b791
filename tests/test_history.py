"""check reads the queue planner's history from a SQLite file as the store reads it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from crosspost.history import History, read_sqlite_history
from crosspost.store import PlannedRow, Sent, Store
from crosspost.store.approvals import approved_hashes, record_approval
from crosspost.store.slots import (
    busy_rows,
    choose_content,
    pending_queue_rows,
    pinned_slots,
    queue_turns,
)

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
QUEUES = ["queue:tips", "queue:news"]
PINNED = ["later", "soon"]
AROUND = (T0 - timedelta(days=30), T0 + timedelta(days=30))


def _row(
    entry: str, occurrence: str, content: str, due: datetime, account: str = "a"
) -> PlannedRow:
    return PlannedRow(entry, occurrence, account, content, due, due + timedelta(hours=1))


def _sent(store: Store, worker: str, at: datetime, item: str | None = None) -> None:
    (claimed,) = store.claim_due(at, worker, LEASE, limit=1)
    assert claimed.id is not None
    if item is not None:
        assert choose_content(store, claimed.id, worker, item, at)
    store.finish(claimed.id, worker, at, Sent(f"r-{claimed.id}", None, at))


def _history(store: Store) -> History:
    """A store with every kind of row the planner reads, and some it must not read."""
    hour = timedelta(hours=1)
    store.add_planned([_row("queue:tips", "s0", "queue:tips", T0 - 3 * hour)], T0 - 4 * hour)
    _sent(store, "w", T0 - 3 * hour, "tip-a")  # a turn
    store.add_planned(
        [
            _row("queue:tips", "s1", "queue:tips", T0 - timedelta(minutes=30)),  # pending
            _row("queue:tips", "s2", "queue:tips", T0 - timedelta(minutes=30), "b"),
            _row("queue:news", "s3", "queue:news", T0 - 5 * hour),  # expired: not pending
            _row("queue:tips", "s4", "queue:tips", T0 + hour),  # ahead: not pending
            _row("publish:one", "h", "news", T0 + 2 * hour),
            _row("feed:blog:x", "h", "news", T0 + 3 * hour, "b"),
            _row("later", "next-slot", "news", T0 + timedelta(days=1)),
            _row("soon", "next-slot", "news", T0 + timedelta(days=2), "b"),
            _row("daily", "d1", "news", T0 + hour),  # scheduled in the files: not booked
        ],
        T0 - hour,
    )
    assert [r.entry for r in store.expire_missed(T0)] == ["queue:news"]
    record_approval(store, "hello", "abc", "ann", T0)
    record_approval(store, "hello", "def", "bob", T0)
    return History(
        turns=queue_turns(store, QUEUES),
        pending=pending_queue_rows(store, QUEUES, T0),
        pinned=pinned_slots(store, PINNED),
        booked=busy_rows(store, *AROUND, PINNED),
        approved=approved_hashes(store),
    )


def test_a_sqlite_file_reads_as_the_store_reads_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crosspost.db'}"
    store = Store(url)
    expected = _history(store)
    store.close()
    assert len(expected.turns) == 1 and len(expected.pending) == 2  # the rows are there
    assert len(expected.booked) == 4 and len(expected.approved) == 2
    assert read_sqlite_history(url, QUEUES, PINNED, T0, AROUND) == expected


def test_no_file_is_no_history_and_another_database_is_not_read(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'none.db'}"
    assert read_sqlite_history(url, QUEUES, PINNED, T0, AROUND) == History()
    assert not (tmp_path / "none.db").exists()
    assert read_sqlite_history("postgresql://x/y", QUEUES, PINNED, T0, AROUND) is None
    assert read_sqlite_history("sqlite://", QUEUES, PINNED, T0, AROUND) is None
