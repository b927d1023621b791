"""``insert_new``: rows whose key is taken are left alone, and what goes in comes back out.

On PostgreSQL the rows go as one array per column that varies (``unnest``) and one value
for a column every row shares; these tests run on both engines so that JSON, lists, NULLs
and times read back the same either way.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, event
from sqlmodel import Session, select

from crosspost.status import Status
from crosspost.store import Publication, Store
from crosspost.store.db import insert_new
from crosspost.store.models import Interaction
from crosspost.store.planned import PUBLICATION_KEY
from crosspost.store.sessions import utc

T0 = datetime(2026, 12, 7, 21, 30, 15, 123456, tzinfo=UTC)
PUBLICATIONS: Table = Publication.__table__  # type: ignore[attr-defined]
INTERACTIONS: Table = Interaction.__table__  # type: ignore[attr-defined]


def publication(number: int, **more: Any) -> dict[str, Any]:
    return {
        "entry": f"entry-{number}",
        "occurrence": "2026-12-08T09:00",
        "account": "news",
        "content_id": "hello",
        "status": Status.PLANNED,
        "due_at": T0 + timedelta(minutes=number),
        "expires_at": T0 + timedelta(minutes=number, hours=1),
        "attempts": 0,
        "created_at": T0,
        "updated_at": T0,
        "extra": None,
        "thread_ids": None,
        "message": None,
        "claimed_pid": None,
        "claimed_process_start": None,
        **more,
    }


def inserted(store: Store, table: Table, rows: list[dict[str, Any]], key: list[str]) -> int:
    with Session(store.engine) as session:
        new = insert_new(session, table, rows, key)
        session.commit()
    return new


def test_what_goes_in_comes_back_out(each_store: Store) -> None:
    rows = [
        publication(1, extra={"album": [1, 2], "cid": "bafy…", "nested": {"n": None}}),
        publication(2, thread_ids=["a", "b"], message="ünïcode ✓ 🎉", claimed_pid=4242),
        publication(3, extra=None, claimed_process_start=1765143015.25),
    ]
    assert inserted(each_store, PUBLICATIONS, rows, PUBLICATION_KEY) == 3
    with Session(each_store.engine) as session:
        stored = session.exec(select(Publication).order_by(Publication.entry)).all()
    assert [row.extra for row in stored] == [rows[0]["extra"], None, None]
    assert stored[1].thread_ids == ["a", "b"] and stored[1].message == "ünïcode ✓ 🎉"
    assert (stored[1].claimed_pid, stored[2].claimed_process_start) == (4242, 1765143015.25)
    assert [utc(row.due_at) for row in stored] == [row["due_at"] for row in rows]
    assert {row.status for row in stored} == {Status.PLANNED}


def test_taken_keys_are_left_alone_and_not_counted(each_store: Store) -> None:
    assert inserted(each_store, PUBLICATIONS, [publication(1, message="first")], PUBLICATION_KEY)
    again = [publication(1, message="second"), publication(2)]
    assert inserted(each_store, PUBLICATIONS, again, PUBLICATION_KEY) == 1
    with Session(each_store.engine) as session:
        messages = session.exec(select(Publication.message).order_by(Publication.entry)).all()
    assert messages == ["first", None]


def test_many_rows_in_one_call(each_store: Store) -> None:
    rows = [
        {
            "account": "news",
            "platform": "mastodon",
            "remote_id": str(number),
            "kind": "mention",
            "author": f"@member{number}",
            "created_at": T0,
            "collected_at": T0,
            "raw": {"n": number},
        }
        for number in range(2_500)
    ]
    sent: list[str] = []
    listen = ("before_cursor_execute", lambda *args: sent.append(args[2]))
    event.listen(each_store.engine, *listen)
    assert inserted(each_store, INTERACTIONS, rows, ["account", "remote_id"]) == 2_500
    event.remove(each_store.engine, *listen)
    inserts = [statement for statement in sent if statement.startswith("INSERT")]
    if each_store.engine.dialect.name == "postgresql":  # one statement, one array a column
        assert len(inserts) == 1 and "unnest(" in inserts[0] and len(inserts[0]) < 2_000
    assert inserted(each_store, INTERACTIONS, rows[-10:], ["account", "remote_id"]) == 0
    with Session(each_store.engine) as session:
        raws = session.exec(select(Interaction.raw)).all()
    assert sorted(raw["n"] for raw in raws if raw) == list(range(2_500))


def test_a_value_every_row_shares_goes_once_and_comes_back_in_each(each_store: Store) -> None:
    """On PostgreSQL a column with one plain value in every row is sent once, not as an
    array: a NULL time, a float and the plan's own status and times. JSON always goes as
    an array: objects that compare equal may differ (``1 == True``)."""
    shared = {"extra": {"album": [1, 2]}, "next_attempt_at": None, "claimed_process_start": 2.5}
    rows = [publication(number, **shared) for number in range(3)]
    sent: list[str] = []
    listen = ("before_cursor_execute", lambda *args: sent.append(args[2]))
    event.listen(each_store.engine, *listen)
    assert inserted(each_store, PUBLICATIONS, rows, PUBLICATION_KEY) == 3
    event.remove(each_store.engine, *listen)
    with Session(each_store.engine) as session:
        stored = session.exec(select(Publication).order_by(Publication.entry)).all()
    assert [row.extra for row in stored] == [{"album": [1, 2]}] * 3
    assert {(row.next_attempt_at, row.claimed_process_start, row.attempts) for row in stored} == {
        (None, 2.5, 0)
    }
    assert [utc(row.due_at) for row in stored] == [row["due_at"] for row in rows]
    assert {utc(row.created_at) for row in stored} == {T0}
    if each_store.engine.dialect.name == "postgresql":
        (insert,) = [statement for statement in sent if statement.startswith("INSERT")]
        assert insert.count("%(column_") == 4  # entry, due_at, expires_at, extra


def test_values_that_compare_equal_but_differ_stay_apart(each_store: Store) -> None:
    rows = [publication(1, extra={"flag": 1}), publication(2, extra={"flag": True})]
    assert inserted(each_store, PUBLICATIONS, rows, PUBLICATION_KEY) == 2
    with Session(each_store.engine) as session:
        flags = [row.extra and row.extra["flag"] for row in session.exec(select(Publication))]
    assert sorted(flags, key=str) == [1, True] and {type(flag) for flag in flags} == {int, bool}
