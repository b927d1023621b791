"""A claim ranks the due rows once, whatever the database's statistics say.

Right after a plan's bulk insert PostgreSQL's statistics still describe the empty
table; with them it ranked every due row again for each due row (a nested loop over
the ranking), 0.4-1.2 s for the first claim of 2,000-4,000 due posts. The ranking is
a materialised CTE now: computed once, whatever plan is chosen around it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from crosspost.status import Status
from crosspost.store import Store
from crosspost.store.dispatching import claim_next
from crosspost.store.planned import PlannedRow

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def _due(store: Store, accounts: int, each: int) -> None:
    """``each`` posts due at the same moment for each of ``accounts`` accounts."""
    rows = [
        PlannedRow(f"e{k}", "o1", f"a{n}", "c", T0 - timedelta(minutes=1), T0 + timedelta(days=1))
        for n in range(accounts)
        for k in range(each)
    ]
    store.add_planned(rows, T0 - timedelta(days=1))


@contextmanager
def _window_loops(store: Store) -> Iterator[list[int]]:
    """How many times each window aggregate of the claims run inside the block ran
    (PostgreSQL's ``EXPLAIN ANALYZE``, in the claim's own transaction)."""
    loops: list[int] = []

    def explain(conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "row_number()" in statement and not statement.startswith("EXPLAIN"):
            explained = f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}"
            (plan,) = conn.exec_driver_sql(explained, parameters).one()
            plan = json.loads(plan) if isinstance(plan, str) else plan
            loops.extend(_loops_of(plan[0]["Plan"], "WindowAgg"))

    event.listen(store.engine, "before_cursor_execute", explain)
    try:
        yield loops
    finally:
        event.remove(store.engine, "before_cursor_execute", explain)


def _loops_of(node: dict[str, Any], kind: str) -> Iterator[int]:
    if node["Node Type"] == kind:
        yield int(node["Actual Loops"])
    for child in node.get("Plans", []):
        yield from _loops_of(child, kind)


@pytest.mark.postgres
def test_a_claim_after_a_bulk_insert_ranks_the_due_rows_once(pg_url: str) -> None:
    store = Store(pg_url)
    try:
        _due(store, accounts=4, each=300)  # statistics: still the empty table's
        with _window_loops(store) as loops:
            claimed = claim_next(store.engine, T0, "w", LEASE, (), None, None, sending=4)
        assert loops == [1], f"the ranking ran {loops} times"
        assert sorted(row.account for row in claimed) == ["a0", "a1", "a2", "a3"]
        assert all(row.entry == "e0" for row in claimed)  # the oldest, by id on a tie
        assert store.counts() == {Status.PLANNED: 1196, Status.PUBLISHING: 4}
    finally:
        store.close()


def test_a_claim_on_sqlite_takes_each_accounts_oldest_due_row(store: Store) -> None:
    _due(store, accounts=3, each=5)
    claimed = claim_next(store.engine, T0, "w", LEASE, {"a1"}, None, None)
    assert sorted((row.account, row.entry) for row in claimed) == [("a0", "e0"), ("a2", "e0")]
    again = claim_next(store.engine, T0, "w", LEASE, (), None, None)
    assert [(row.account, row.entry) for row in again] == [("a1", "e0")]  # the rest in flight
