"""Statements run on the driver's cursor (crosspost.store.prepared) write and read what the
ORM would: the handover's rows are the ORM's rows, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, inspect, select, update
from sqlmodel import col

from crosspost.status import Status
from crosspost.store import PlannedRow, Publication, Sent, Store
from crosspost.store.handover import upcoming
from crosspost.store.prepared import Prepared

T0 = datetime(2026, 3, 1, 12, 0, 10, tzinfo=UTC)
TABLE = Publication.__table__  # type: ignore[attr-defined]


def _planned(store: Store, entries: int = 2) -> list[Publication]:
    rows = [
        PlannedRow(
            entry=f"p{n}",
            occurrence="2026-03-01T11:00:00+00:00",
            account="alpha",
            content_id="hello",
            due_at=T0 - timedelta(minutes=50 - n),
            expires_at=T0 + timedelta(hours=1),
        )
        for n in range(entries)
    ]
    store.add_planned(rows, T0)
    return sorted(store.publications(), key=lambda row: row.entry)


def _fields(row: Publication) -> dict[str, Any]:
    return {column.key: getattr(row, column.key) for column in TABLE.columns}


def _run(store: Store, prepared: Prepared, values: dict[str, object]) -> int:
    with store.engine.connect() as connection, connection.begin():
        return int(prepared.run(connection.connection.cursor(), values).rowcount)


def test_a_row_read_on_the_cursor_is_the_row_the_orm_loads(each_store: Store) -> None:
    store = each_store
    first, _second = _planned(store)
    found = upcoming(store, "alpha", T0)
    assert found is not None and found.id == first.id
    assert _fields(found) == _fields(first)
    assert isinstance(found.status, Status) and found.due_at.tzinfo is not None
    assert inspect(found).detached  # as a closed session leaves what it loaded


def test_values_written_on_the_cursor_read_back_as_the_orm_wrote_them(each_store: Store) -> None:
    store = each_store
    first, _second = _planned(store)
    assert first.id is not None
    sent = Sent("remote-1", "https://example.invalid/1", T0, ("remote-1", "remote-2"), {"a": 1})
    columns = sent.columns()
    statement = (
        update(TABLE)
        .where(col(Publication.id) == bindparam("b_id"), col(Publication.status) == Status.PLANNED)
        .values(updated_at=bindparam("b_now"), **{name: bindparam(name) for name in columns})
    )
    prepared = Prepared(statement, store.engine.dialect)
    assert _run(store, prepared, {"b_id": first.id, "b_now": T0, **columns}) == 1
    row = store.get(first.id)
    assert row is not None and row.status == Status.PUBLISHED
    assert row.thread_ids == ["remote-1", "remote-2"] and row.extra == {"a": 1}
    assert row.published_at == T0 and row.updated_at == T0
    # compared as stored: the row is no longer planned, so the same update finds nothing
    assert _run(store, prepared, {"b_id": first.id, "b_now": T0, **columns}) == 0


def test_a_datetime_parameter_compares_as_the_orm_compares_it(each_store: Store) -> None:
    store = each_store
    first, second = _planned(store)
    statement = (
        select(*TABLE.columns)
        .where(col(Publication.due_at) <= bindparam("b_at"))
        .order_by(col(Publication.due_at))
    )
    prepared = Prepared(statement, store.engine.dialect)
    with store.engine.connect() as connection:
        cursor = connection.connection.cursor()
        assert prepared.first(cursor, {"b_at": first.due_at - timedelta(microseconds=1)}) is None
        found = prepared.first(cursor, {"b_at": second.due_at})
    assert found is not None and found["id"] == first.id


def test_values_a_statement_does_not_name_are_left_out_and_a_missing_one_is_an_error(
    each_store: Store,
) -> None:
    """A transaction's statements share one dict of values (crosspost.store.handover)."""
    store = each_store
    first, _second = _planned(store)
    statement = (
        update(TABLE)
        .where(col(Publication.id) == bindparam("b_id"))
        .values(updated_at=bindparam("b_now"))
    )
    prepared = Prepared(statement, store.engine.dialect)
    assert _run(store, prepared, {"b_id": first.id, "b_now": T0, "v_other": object()}) == 1
    with pytest.raises(KeyError, match="b_now"):
        _run(store, prepared, {"b_id": first.id})
