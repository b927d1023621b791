"""Queue, approval and first-comment queries on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crosspost.status import Status
from crosspost.store import Awaiting, PlannedRow, Sent, Store
from crosspost.store.approvals import approved_hashes, gate_rows, record_approval, set_gate
from crosspost.store.slots import (
    busy_rows,
    choose_content,
    pending_queue_rows,
    pinned_slots,
    queue_turns,
)
from tests.test_store import pg_url  # noqa: F401  (the PostgreSQL fixture)

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def planned(
    entry: str, occurrence: str, content: str, due: datetime, account: str = "a"
) -> PlannedRow:
    return PlannedRow(entry, occurrence, account, content, due, due + timedelta(hours=1))


def test_a_queue_slot_gets_its_item_once_and_counts_as_a_turn(each_store: Store) -> None:
    store = each_store
    store.add_planned(
        [
            planned("queue:tips", "s1", "queue:tips", T0),
            planned("queue:tips", "s0", "queue:tips", T0 - timedelta(minutes=30)),
            planned("publish:news", "h", "news", T0 + timedelta(minutes=20)),
            planned("later", "next-slot", "news", T0 + timedelta(days=1)),
        ],
        T0,
    )
    assert [(e, o) for e, o, _a, _d in pending_queue_rows(store, ["queue:tips"], T0)] == [
        ("queue:tips", "s0")
    ]
    (claimed,) = store.claim_due(T0, "w1", LEASE, limit=1)
    assert claimed.id is not None and claimed.occurrence == "s0"
    assert not choose_content(store, claimed.id, "someone-else", "tip-a", T0)
    assert choose_content(store, claimed.id, "w1", "tip-a", T0)
    assert not choose_content(store, claimed.id, "w1", "tip-b", T0)  # chosen once
    store.finish(claimed.id, "w1", T0, Sent("r1", None, T0))
    turns = queue_turns(store, ["queue:tips"], ["a"])
    assert [(t.content, t.due_at) for t in turns] == [("tip-a", T0 - timedelta(minutes=30))]
    near = busy_rows(store, T0, T0 + timedelta(hours=1), ["later"], ["a"])
    assert [b.entry for b in near] == ["publish:news"]  # one-offs; queue rows never count
    assert pinned_slots(store, ["later"]) == {("later", "a"): T0 + timedelta(days=1)}


def test_approvals_and_the_gate(each_store: Store) -> None:
    store = each_store
    assert record_approval(store, "hello", "abc", "ann", T0)
    assert not record_approval(store, "hello", "abc", "bob", T0)  # kept, not doubled
    assert approved_hashes(store) == {("hello", "abc"): "ann"}
    store.add_planned(
        [planned("launch", "x", "hello", T0), planned("queue:q", "y", "queue:q", T0)], T0
    )
    rows = gate_rows(store)
    assert [r.entry for r in rows] == ["launch"]  # queue rows choose approved items instead
    held, released = set_gate(store, [rows[0].id], [], T0, "awaiting approval: crosspost approve ")
    assert (held, released) == (1, 0)
    (row,) = store.publications([Status.AWAITING_APPROVAL])
    assert row.error == "awaiting approval: crosspost approve hello"
    assert store.claim_due(T0, "w", LEASE, limit=5)[0].entry == "queue:q"  # never the held one
    late = store.expire_missed(T0 + timedelta(hours=2))
    assert {(r.entry, r.status) for r in late} >= {("launch", Status.MISSED)}


def test_a_post_is_recorded_with_its_first_comment_or_not_at_all(each_store: Store) -> None:
    store = each_store
    store.add_planned([planned("launch", "x", "hello", T0)], T0)
    (claimed,) = store.claim_due(T0, "w1", LEASE)
    assert claimed.id is not None
    comment = planned("comment:launch", "x", "hello", T0)
    assert not store.finish(claimed.id, "lost", T0, Sent("r1", None, T0), [comment])
    assert store.find("comment:launch", "x", "a") is None  # not written without its post
    assert store.finish(claimed.id, "w1", T0, Sent("r1", None, T0), [comment])
    written = store.find("comment:launch", "x", "a")
    assert written is not None and written.status == Status.PLANNED
    assert store.last_published_at("a") is not None
    (again,) = store.claim_due(T0, "w2", LEASE)
    assert again.entry == "comment:launch" and again.id is not None
    store.finish(again.id, "w2", T0, Sent("r2", None, T0))
    assert store.published_since("a", T0 - timedelta(days=1)) == 1  # the comment is not a post


def test_a_claimed_row_handed_back_for_approval_undoes_its_attempt(each_store: Store) -> None:
    store = each_store
    store.add_planned([planned("launch", "x", "hello", T0)], T0)
    (claimed,) = store.claim_due(T0, "w1", LEASE)
    assert claimed.id is not None
    assert store.finish(
        claimed.id, "w1", T0, Awaiting("awaiting approval: crosspost approve hello")
    )
    row = store.get(claimed.id)
    assert row is not None and (row.status, row.attempts) == (Status.AWAITING_APPROVAL, 0)
