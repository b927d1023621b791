"""Statements bind at most ``PARAMETERS_PER_STATEMENT`` values; longer lists go in chunks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from crosspost.history import PARAMETERS_PER_STATEMENT, chunked
from crosspost.status import Status
from crosspost.store import Publication, Store
from crosspost.store.planned import PlannedRow
from crosspost.store.sessions import update_chunked

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_chunks_keep_order_and_size() -> None:
    values = list(range(2 * PARAMETERS_PER_STATEMENT + 3))
    chunks = list(chunked(values))
    assert [len(c) for c in chunks] == [PARAMETERS_PER_STATEMENT, PARAMETERS_PER_STATEMENT, 3]
    assert [v for c in chunks for v in c] == values
    assert list(chunked((), 10)) == []
    assert list(chunked("abcde", 2)) == [["a", "b"], ["c", "d"], ["e"]]


def test_an_update_of_more_rows_than_one_statement_binds(store: Store) -> None:
    count = 2 * PARAMETERS_PER_STATEMENT + 1
    rows = [
        PlannedRow(f"e{n}", "o", "a", "c", T0 + timedelta(minutes=n), T0 + timedelta(days=1))
        for n in range(count + 10)
    ]
    store.add_planned(rows, T0)
    with Session(store.engine) as session:
        ids = session.exec(select(Publication.id).order_by(col(Publication.id))).all()
        cancel = update(Publication).values(status=Status.CANCELLED)
        assert update_chunked(session, cancel, [i for i in ids[:count] if i is not None]) == count
        session.commit()
    assert store.counts() == {Status.CANCELLED: count, Status.PLANNED: 10}
