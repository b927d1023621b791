"""An account's reads go through ``ix_publication_account_due`` (account, state, due time):
the worker's look for the account's next due row and the claim's "is one of its posts
being sent", which SQLite otherwise answered by walking every row the account ever had
or every due row of every account."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, update

from crosspost.status import Status
from crosspost.store import Publication, Store
from crosspost.store.dispatching import claim_next
from crosspost.store.handover import _statements, upcoming
from crosspost.store.planned import PlannedRow

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
INDEX = "ix_publication_account_due"


def _many_accounts(store: Store) -> None:
    """30 accounts with 10 posts due each and 20 published before."""
    rows = [
        PlannedRow(f"e{k}", "o1", f"a{n}", "c", T0 - timedelta(minutes=k), T0 + timedelta(days=1))
        for n in range(30)
        for k in range(30)
    ]
    store.add_planned(rows, T0 - timedelta(days=1))
    published = (
        update(Publication)
        .where(Publication.entry.in_([f"e{k}" for k in range(10, 30)]))  # type: ignore[attr-defined]
        .values(status=Status.PUBLISHED)
    )
    with store.engine.begin() as connection:
        connection.execute(published)


@contextmanager
def _plans(store: Store) -> Iterator[list[str]]:
    """The query plans of the selects on publication run inside the block."""
    captured: list[str] = []

    def explain(conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")) and "publication" in statement:
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            captured.extend(str(row[-1]) for row in plan)

    event.listen(store.engine, "before_cursor_execute", explain)
    try:
        yield captured
    finally:
        event.remove(store.engine, "before_cursor_execute", explain)


def _searches(plans: list[str]) -> list[str]:
    return [row for row in plans if row.startswith(("SEARCH publication ", "SEARCH anon"))]


def _read_plans(store: Store, read: Callable[[], object]) -> list[str]:
    with _plans(store) as plans:
        read()
    return plans


def test_the_next_due_row_of_an_account_is_found_by_the_account(store: Store) -> None:
    _many_accounts(store)
    # the worker reads on the driver's cursor: ask SQLite for the plan of that statement
    sql = _statements(store.engine.dialect).oldest.sql
    with store.engine.connect() as connection:
        cursor = connection.connection.cursor()
        plan = cursor.execute(f"EXPLAIN QUERY PLAN {sql}", [None] * sql.count("?")).fetchall()
        found = upcoming(store, "a7", T0, connection=connection)
    wanted = f"USING INDEX {INDEX} (account=? AND status=? AND due_at<?)"
    assert any(wanted in str(row[-1]) for row in plan), plan
    assert found is not None and (found.account, found.entry) == ("a7", "e9")


def test_a_claim_asks_for_posts_in_flight_by_the_account(store: Store) -> None:
    _many_accounts(store)
    lease = timedelta(minutes=5)
    plans = _read_plans(store, lambda: claim_next(store.engine, T0, "w", lease, (), None, None))
    in_flight = [p for p in plans if "USING" in p and "status=?" in p and "account=?" in p]
    assert in_flight and all(INDEX in p for p in in_flight), plans
    assert not any(p.endswith("USING INDEX ix_publication_account (account=?)") for p in plans)
    one = _read_plans(store, lambda: claim_next(store.engine, T0, "w2", lease, (), "a3", None))
    assert all(INDEX in p for p in _searches(one) if "account=?" in p), one


def test_the_account_reads_benchmark_builds_what_it_says() -> None:
    """``python -m benchmarks.account_reads`` on a small store, both ways (no timing here)."""
    from benchmarks import account_reads

    for before in (True, False):
        store = account_reads._store(4, 2, 3, before_r022=before)
        assert store.counts() == {Status.PLANNED: 8, Status.PUBLISHED: 12}
        with store.engine.connect() as connection:
            names = {row[1] for row in connection.exec_driver_sql("PRAGMA index_list(publication)")}
        assert (INDEX in names, "ix_publication_account" in names) == (not before, before)
        assert account_reads.next_due(4, 2, 3, before_r022=before) >= 0
        assert account_reads.round_claim(4, 2, 3, before_r022=before) >= 0
