"""The store on SQLite and on PostgreSQL: schema, unique key, leases, expiry.

Every test runs on both databases. PostgreSQL is the server at
``127.0.0.1:5432`` (trust auth); each test gets a database of its own, created
with ``CREATE DATABASE`` and dropped afterwards. Without a reachable server the
PostgreSQL half is skipped, unless ``CI`` is set, where it fails.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from crosspost.status import Status
from crosspost.store import Ended, PlannedRow, Publication, Requeued, Sent, Store

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def _pg_admin() -> object:
    import psycopg

    return psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=3)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    try:
        admin = _pg_admin()
    except Exception as exc:  # psycopg missing or server down
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but PostgreSQL at {PG_SERVER} is not reachable: {exc}")
        pytest.skip(f"PostgreSQL at {PG_SERVER} is not reachable ({exc}); set CI to fail instead")
    name = f"crosspost_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[attr-defined]
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[attr-defined]
        admin.close()  # type: ignore[attr-defined]


@pytest.fixture
def store(each_store: Store) -> Store:
    """A migrated store on each database (SQLite, PostgreSQL)."""
    return each_store


def row(
    occurrence: str = "2026-03-01T12:00",
    account: str = "alpha",
    *,
    entry: str = "launch",
    due: datetime = T0,
    grace: timedelta = timedelta(hours=1),
) -> PlannedRow:
    return PlannedRow(entry, occurrence, account, "hello", due, due + grace)


def as_utc(value: datetime | None) -> datetime | None:
    """Rows read back from SQLite may be naive (stored as UTC); compare as aware."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


# --------------------------------------------------------------------------- schema


def test_migrations_create_every_table(store: Store) -> None:
    tables = set(inspect(store.engine).get_table_names())
    assert {
        "publication",
        "metric_snapshot",
        "account_snapshot",
        "entry_state",
        "daemon_heartbeat",
        "alembic_version",
    } <= tables
    columns = {c["name"] for c in inspect(store.engine).get_columns("publication")}
    assert {
        "entry",
        "occurrence",
        "account",
        "status",
        "due_at",
        "claimed_until",
        "attempts",
        "remote_id",
        "url",
        "error",
        "text_hash",
    } <= columns


def test_migrating_again_is_a_no_op(store: Store) -> None:
    store.add_planned([row()], T0)
    again = Store(store.url)  # a second process starting on the same database
    try:
        assert [p.entry for p in again.publications()] == ["launch"]
    finally:
        again.close()


def test_unique_key_entry_occurrence_account(store: Store) -> None:
    store.add_planned([row(), row(account="beta")], T0)
    # same key again, even with another due time: ignored, nothing overwritten
    store.add_planned([row(due=T0 + timedelta(hours=3))], T0)
    store.add_planned([row("2026-03-02T12:00")], T0)
    rows = store.publications()
    assert len(rows) == 3
    assert as_utc(store.find("launch", "2026-03-01T12:00", "alpha").due_at) == T0  # type: ignore[union-attr]


def test_add_planned_returns_how_many_rows_were_new(
    store: Store, request: pytest.FixtureRequest
) -> None:
    assert store.add_planned([row(), row(account="beta")], T0) == 2
    assert store.add_planned([row(due=T0 + timedelta(hours=3)), row("other")], T0) == 1
    assert store.add_oneoff(row(), T0) is None
    added = store.add_oneoff(row("third"), T0)
    assert added is not None and added.occurrence == "third"


def test_database_itself_refuses_a_duplicate_key(store: Store) -> None:
    store.add_planned([row()], T0)
    duplicate = Publication(
        entry="launch",
        occurrence="2026-03-01T12:00",
        account="alpha",
        content_id="hello",
        due_at=T0,
        expires_at=T0,
        created_at=T0,
        updated_at=T0,
    )
    with Session(store.engine) as session, pytest.raises(IntegrityError):
        session.add(duplicate)
        session.commit()


# --------------------------------------------------------------------------- claiming


def test_claim_leases_each_row_exactly_once_across_four_threads(store: Store) -> None:
    rows = [row(f"2026-03-01T12:{m:02d}", account=a) for m in range(15) for a in ("a", "b", "c")]
    store.add_planned(rows, T0)
    assert len(store.publications()) == 45
    now = T0 + timedelta(minutes=30)
    claimed: dict[str, list[int]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def worker(name: str) -> None:
        got: list[int] = []
        try:
            start.wait()
            while batch := store.claim_due(now, name, LEASE, limit=4):
                got += [p.id for p in batch if p.id is not None]
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        claimed[name] = got

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    every = [i for got in claimed.values() for i in got]
    assert len(every) == 45
    assert not [i for i, n in Counter(every).items() if n > 1]
    by_id = {p.id: p for p in store.publications()}
    for name, ids in claimed.items():
        for pid in ids:
            assert by_id[pid].status == Status.PUBLISHING.value
            assert by_id[pid].claimed_by == name
            assert by_id[pid].attempts == 1


def test_claim_takes_only_due_rows_oldest_first(store: Store) -> None:
    store.add_planned(
        [
            row("late", due=T0 + timedelta(minutes=2)),
            row("early"),
            row("future", due=T0 + timedelta(hours=1)),
        ],
        T0,
    )
    got = store.claim_due(T0 + timedelta(minutes=5), "w", LEASE)
    assert [p.occurrence for p in got] == ["early", "late"]
    assert store.claim_due(T0 + timedelta(minutes=5), "w2", LEASE) == []


def test_claim_skips_held_accounts_and_rows_waiting_for_a_retry(store: Store) -> None:
    store.add_planned([row(account="alpha"), row(account="beta"), row(account="gamma")], T0)
    first = store.claim_due(T0, "w", LEASE, skip_accounts=["beta"])
    assert sorted(p.account for p in first) == ["alpha", "gamma"]
    gamma = next(p for p in first if p.account == "gamma")
    store.finish(gamma.id, "w", T0, Requeued(T0 + timedelta(minutes=10), None))
    assert [p.account for p in store.claim_due(T0 + timedelta(minutes=1), "w", LEASE)] == ["beta"]
    assert [p.account for p in store.claim_due(T0 + timedelta(minutes=10), "w", LEASE)] == ["gamma"]


def test_finish_only_by_the_lease_holder(store: Store) -> None:
    store.add_planned([row()], T0)
    (claimed,) = store.claim_due(T0, "holder", LEASE)
    assert claimed.id is not None
    assert not store.finish(claimed.id, "intruder", T0, Sent("x", None, T0))
    unchanged = store.get(claimed.id)
    assert unchanged is not None
    assert (unchanged.status, unchanged.remote_id) == (Status.PUBLISHING.value, None)
    assert store.finish(claimed.id, "holder", T0, Sent("42", "https://x.example/42", T0))
    done = store.get(claimed.id)
    assert done is not None
    assert (done.status, done.remote_id, done.url) == ("published", "42", "https://x.example/42")
    assert (done.claimed_by, done.claimed_until) == (None, None)
    # finished: the holder cannot record a second outcome either
    assert not store.finish(claimed.id, "holder", T0, Ended(Status.FAILED, "refused"))


def test_claim_next_takes_the_oldest_due_row_of_each_account_not_skipped(store: Store) -> None:
    store.add_planned(
        [
            row(str(n), account, due=T0 - timedelta(minutes=10 - n))
            for n in range(3)
            for account in ("alpha", "beta", "gamma")
        ],
        T0,
    )
    first = store.claim_next(T0, "w", LEASE, skip_accounts=["gamma"])
    assert sorted((r.account, r.occurrence) for r in first) == [("alpha", "0"), ("beta", "0")]
    assert {r.status for r in first} == {"publishing"}
    # alpha's first post is in flight: its next one waits, whoever asks
    assert store.claim_next(T0, "other daemon", LEASE, account="alpha") == []
    alpha = next(r for r in first if r.account == "alpha")
    assert alpha.id is not None
    store.finish(alpha.id, "w", T0, Sent("1", "https://x.example/1", T0))
    (following,) = store.claim_next(T0, "w", LEASE, account="alpha")
    assert following.occurrence == "1"
    assert store.claim_next(T0, "w", LEASE, skip_accounts=["alpha", "beta", "gamma"]) == []


def test_claimed_but_never_sent_goes_back_to_planned(store: Store) -> None:
    store.add_planned([row(), row(account="beta")], T0)
    first, second = store.claim_due(T0, "dead-worker", LEASE)
    assert first.id is not None and second.id is not None
    assert store.start_sending(first.id, "dead-worker", T0, LEASE)
    expired = store.expire_leases(T0 + LEASE + timedelta(seconds=1))
    assert [p.id for p in expired] == [first.id]
    back = store.get(second.id)
    assert back is not None
    assert (back.status, back.attempts, back.claimed_by) == (Status.PLANNED.value, 0, None)
    assert not store.start_sending(second.id, "dead-worker", T0, LEASE)  # not claimed any more


def test_expired_lease_becomes_unknown_never_planned(store: Store) -> None:
    store.add_planned([row(), row(account="beta")], T0)
    for claimed in store.claim_due(T0, "dead-worker", LEASE):
        assert claimed.id is not None
        assert store.start_sending(claimed.id, "dead-worker", T0, LEASE)
    assert store.expire_leases(T0 + LEASE - timedelta(seconds=1)) == []
    expired = store.expire_leases(T0 + LEASE + timedelta(seconds=1))
    assert sorted(p.account for p in expired) == ["alpha", "beta"]
    rows = store.publications()
    assert {p.status for p in rows} == {Status.UNKNOWN.value}
    assert all(p.claimed_by is None and "may have gone out" in (p.error or "") for p in rows)
    # an unknown row is never claimed again: that would be a blind resend
    assert store.claim_due(T0 + timedelta(days=1), "w", LEASE) == []
    # and the dead worker can no longer record an outcome
    assert not store.finish(rows[0].id, "dead-worker", T0, Sent("1", None, T0))  # type: ignore[arg-type]


def test_expire_missed_only_for_never_tried_rows(store: Store) -> None:
    grace = timedelta(minutes=10)
    store.add_planned(
        [row(account="untried", grace=grace), row(account="retrying", grace=grace)], T0
    )
    (tried,) = store.claim_due(T0, "w", LEASE, skip_accounts=["untried"])
    store.finish(tried.id, "w", T0, Requeued(T0 + timedelta(minutes=30), "HTTP 503"))
    assert store.expire_missed(T0 + grace) == []  # not past the grace yet
    missed = store.expire_missed(T0 + timedelta(minutes=31))
    assert [p.account for p in missed] == ["untried"]
    by_account = {p.account: p for p in store.publications()}
    assert by_account["untried"].status == Status.MISSED.value
    assert "grace" in (by_account["untried"].error or "")
    assert by_account["retrying"].status == Status.PLANNED.value
    # a row that was already tried keeps its retry even after its grace
    again = store.claim_due(T0 + timedelta(minutes=31), "w", LEASE)
    assert [p.account for p in again] == ["retrying"]
    assert again[0].attempts == 2


def test_heartbeat_and_counts(store: Store) -> None:
    store.add_planned([row(), row(account="beta")], T0)
    store.heartbeat("w1", T0, T0)
    store.heartbeat("w1", T0 + timedelta(seconds=5), T0)
    beat = store.last_heartbeat()
    assert beat is not None and beat.worker == "w1"
    assert as_utc(beat.alive_at) == T0 + timedelta(seconds=5)
    assert store.counts() == {"planned": 2}


def test_status_reads_back_as_the_enum(store: Store) -> None:
    store.add_planned([row()], T0)
    (planned,) = store.publications([Status.PLANNED])
    assert type(planned.status) is Status and planned.status is Status.PLANNED
    assert store.counts() == {Status.PLANNED: 1}


def test_settle_records_only_on_a_row_still_unknown(store: Store) -> None:
    store.add_planned([row(), row(account="beta")], T0)
    first, second = store.claim_due(T0, "w", LEASE)
    assert first.id is not None and second.id is not None
    for claimed in (first, second):
        assert claimed.id is not None
        assert store.finish(claimed.id, "w", T0, Ended(Status.UNKNOWN, "read timeout"))
    store.resolve(second.id, T0, Ended(Status.CANCELLED, "skipped by hand"))
    found = Sent("42", "https://x.example/42", T0)
    assert store.settle(first.id, T0, found)
    assert not store.settle(second.id, T0, found)  # a person decided first: theirs stands
    assert {p.account: p.status for p in store.publications()} == {
        "alpha": Status.PUBLISHED,
        "beta": Status.CANCELLED,
    }


def test_a_waiting_announcement_is_woken_by_its_article_only(store: Store) -> None:
    """``waits_for`` and a later grace are written with the wait; recording wakes it."""
    store.add_planned([row(), row(account="beta"), row("2026-03-02T12:00", "beta")], T0)
    claimed = store.claim_due(T0, "w", timedelta(minutes=5))
    beta = next(r for r in claimed if r.account == "beta" and r.occurrence == "2026-03-01T12:00")
    later, expires = T0 + timedelta(minutes=1), T0 + timedelta(hours=1, minutes=1)
    wait = Requeued(later, "waiting for alpha", True, waits_for="alpha", expires_at=expires)
    assert store.finish(beta.id or 0, "w", T0, wait)
    waiting = store.get(beta.id or 0)
    assert waiting is not None and waiting.waits_for == "alpha" and waiting.attempts == 0
    assert as_utc(waiting.expires_at) == expires
    # another occurrence, or another account's record, wakes nothing
    assert store.wake_waiting("launch", "2026-03-02T12:00", "alpha", T0) == 0
    assert store.wake_waiting("launch", "2026-03-01T12:00", "beta", T0) == 0
    assert store.wake_waiting("launch", "2026-03-01T12:00", "alpha", T0) == 1
    woken = store.get(beta.id or 0)
    assert woken is not None and as_utc(woken.next_attempt_at) == T0


def test_an_article_recorded_while_its_announcement_was_looked_at_still_wakes_it(
    store: Store,
) -> None:
    """The lost wake-up: alpha's record lands while beta's announcement is claimed (so
    ``wake_waiting`` finds nothing planned); the wait written after it is due at once."""
    store.add_planned([row(), row(account="beta")], T0)
    alpha, beta = sorted(store.claim_due(T0, "w", LEASE), key=lambda r: r.account)
    later = T0 + timedelta(minutes=1)
    assert store.finish(alpha.id or 0, "w", T0, Sent("1", "https://a.example/1", T0))
    assert store.wake_waiting("launch", "2026-03-01T12:00", "alpha", T0) == 0  # beta is claimed
    assert store.finish(beta.id or 0, "w", T0, Requeued(later, "waiting", True, waits_for="alpha"))
    waiting = store.get(beta.id or 0)
    assert waiting is not None and as_utc(waiting.next_attempt_at) == T0


def test_a_wait_for_an_article_still_open_keeps_its_retry_time(store: Store) -> None:
    store.add_planned([row(), row(account="beta")], T0)
    (beta,) = store.claim_due(T0, "w", LEASE, skip_accounts=["alpha"])
    later = T0 + timedelta(minutes=1)
    assert store.finish(beta.id or 0, "w", T0, Requeued(later, "waiting", True, waits_for="alpha"))
    waiting = store.get(beta.id or 0)
    assert waiting is not None and as_utc(waiting.next_attempt_at) == later


def test_steps_are_recorded_by_the_holder_and_keep_a_begun_row_due(store: Store) -> None:
    from crosspost.store.steps import load_steps, record_step, step_counts

    store.add_planned([row(grace=timedelta(minutes=1))], T0)
    (claimed,) = store.claim_due(T0, "w1", LEASE)
    assert claimed.id is not None
    assert record_step(store, claimed.id, "w1", "a@example.org", "started", "", T0, LEASE)
    assert record_step(store, claimed.id, "w1", "a@example.org", "done", "250 ok", T0, LEASE)
    assert not record_step(store, claimed.id, "w2", "b@example.org", "started", "", T0, LEASE)
    assert load_steps(store, claimed.id) == {"a@example.org": ("done", "250 ok")}
    assert step_counts(store, claimed.id) == {"done": 1}
    # handed back untried (a rate limit): past its grace, a begun row is due, never missed
    store.finish(claimed.id, "w1", T0, Requeued(None, "paced", undo_attempt=True))
    later = T0 + timedelta(hours=2)
    assert store.expire_missed(later) == []
    assert [r.id for r in store.claim_due(later, "w1", LEASE)] == [claimed.id]


def test_sqlite_gives_every_worker_a_connection_of_its_own(tmp_path: Path) -> None:
    """Each publishing worker holds a connection through an account's turn; with
    SQLAlchemy's default pool (5, and 10 more) the 16th waited for another's turn to end
    (and after 30 s failed), so 64 workers published no faster than 15."""
    store = Store(f"sqlite:///{tmp_path / 'many.db'}")
    held = [store.engine.connect() for _ in range(64)]  # each checks one out of the pool
    try:
        assert store.engine.pool.checkedout() == 64  # type: ignore[attr-defined]
    finally:
        for connection in held:
            connection.close()
        store.close()
