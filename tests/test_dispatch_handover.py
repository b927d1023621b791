"""An account's posts go out one after the other with no cap per round, each post's result
recorded in the transaction that starts the next one (crosspost.store.handover)."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, inspect
from sqlalchemy.exc import OperationalError

from crosspost.loading.project import load_project
from crosspost.publishing.daemon import Daemon
from crosspost.publishing.dispatch import HELD_PER_WORKER
from crosspost.publishing.outcome import Ready, idempotency_key
from crosspost.status import Status
from crosspost.store import Publication, Sent, Store
from crosspost.store.account_state import LimitsReport, remember_limits, stored_limits
from crosspost.store.db import HELD_AT_MOST, _readable, closed_by_server, is_sqlite
from crosspost.store.handover import (
    Handover,
    record_and_hand_over,
    record_and_look,
    turn_connection,
)
from crosspost.store.lease import Holder
from crosspost.store.prepared import Prepared
from crosspost.store.records import Replanned
from tests.fakes import FakeClock, FakePlatform, report_limits, write_project

T0 = datetime(2026, 3, 1, 12, 0, 10, tzinfo=UTC)
WORKER = "host:1:test"


def _posts(count: int, account: str = "alpha") -> str:
    # due between 11:10 and 11:59, within the default grace at T0
    return "".join(
        f"- id: p{n:03}\n  content: hello\n  to: [{account}]\n"
        f"  at: 2026-03-01 11:{10 + n % 50:02}\n"
        for n in range(count)
    )


def _worker_commits(store: Store) -> dict[str, int]:
    """Transactions begun and committed by the publishing workers, counted as they happen."""
    counts = {"begin": 0, "commit": 0}
    for name in counts:

        def count(_connection: object, name: str = name) -> None:
            if threading.current_thread().name.startswith("publish-"):
                counts[name] += 1

        event.listen(store.engine, name, count)
    return counts


def test_more_than_fifty_due_posts_of_one_account_go_out_in_one_round(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    daemon = Daemon(write_project(tmp_path, _posts(120), ("alpha",)), store, clock=FakeClock(T0))
    outcomes = daemon.tick()
    assert sum(o.status == Status.PUBLISHED for o in outcomes) == 120
    assert len({call.key for call in platform.calls}) == 120
    assert store.counts() == {Status.PUBLISHED: 120}


def test_posts_go_out_in_due_order_with_one_write_transaction_each(
    tmp_path: Path, each_store: Store, platform: FakePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An account's turn of N posts is N transactions of its worker, on SQLite and PostgreSQL:
    the round's claim marks the first as sending, each record starts the next one, and the
    last record finds that none is left."""
    store = each_store
    daemon = Daemon(write_project(tmp_path, _posts(50), ("alpha",)), store, clock=FakeClock(T0))
    daemon.sync()
    counts = _worker_commits(store)
    statements = _worker_statements(monkeypatch)
    daemon.tick()
    entry_of = {
        idempotency_key(p.entry, p.occurrence, p.account): p.entry for p in store.publications()
    }
    assert [entry_of[call.key] for call in platform.calls] == [f"p{n:03}" for n in range(50)]
    assert store.counts() == {Status.PUBLISHED: 50}
    if is_sqlite(store.engine):
        # before: a claim, a send-start and a record per post (3 writes, 5 transactions),
        # then 50 + 2 (the first post's send-start, a claim after the last post)
        assert counts == {"begin": 50, "commit": 50}
    else:
        # each record (with the next post's start) is one statement, a transaction of its
        # own that the server begins and commits: no BEGIN, no COMMIT sent
        assert counts == {"begin": 0, "commit": 0}
        # (and one read: the first post's next, found before its record)
        assert statements == {"WITH": 50, "SELECT": 1}


def _worker_statements(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """The statements the publishing workers run through :class:`Prepared`, by first word."""
    counts: Counter[str] = Counter()
    run = Prepared.run

    def counted(self: Prepared, cursor: Any, values: Any) -> Any:
        if threading.current_thread().name.startswith("publish-"):
            counts[self.sql.split(None, 1)[0]] += 1
        return run(self, cursor, values)

    monkeypatch.setattr(Prepared, "run", counted)
    return counts


def _posts_of(accounts: tuple[str, ...], each: int) -> str:
    return "".join(
        f"- id: {account}{n:03}\n  content: hello\n  to: [{account}]\n"
        f"  at: 2026-03-01 11:{10 + n % 50:02}\n"
        for account in accounts
        for n in range(each)
    )


def test_accounts_in_parallel_take_one_transaction_per_post(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    accounts = ("alpha", "beta", "gamma")
    path = write_project(tmp_path, _posts_of(accounts, 20), accounts)
    daemon = Daemon(path, store, clock=FakeClock(T0))
    daemon.sync()
    counts = _worker_commits(store)
    daemon.tick()
    assert store.counts() == {Status.PUBLISHED: 60}
    assert len({call.key for call in platform.calls}) == 60
    assert counts == {"begin": 60, "commit": 60}


def test_an_account_queued_behind_busy_workers_is_marked_as_sending_when_taken(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    """With one worker, the second account's first post waits in the queue claimed only:
    a crash there hands it back ``planned``; its worker marks it as sending before it goes.
    The round took every due account, fewer than it had room for: the worker claims
    nothing more when the queue is empty."""
    accounts = ("alpha", "beta")
    path = write_project(tmp_path, _posts_of(accounts, 3), accounts)
    daemon = Daemon(path, store, clock=FakeClock(T0), workers=1)
    daemon.sync()
    counts = _worker_commits(store)
    daemon.tick()
    assert store.counts() == {Status.PUBLISHED: 6}
    assert len({call.key for call in platform.calls}) == 6
    assert counts == {"begin": 6 + 1, "commit": 6 + 1}


def test_a_daemon_holds_a_bounded_number_of_accounts_and_leaves_the_rest_to_another(
    tmp_path: Path, each_store: Store, platform: FakePlatform
) -> None:
    """On SQLite and PostgreSQL. Two daemons of two workers, more accounts with a post due
    than both may hold: each round claims what its daemon may hold, the first has no room
    for more, and the rest go to the first workers free. A round that claimed every
    account left them queued behind two busy workers while the other daemon had nothing
    to do."""
    store = each_store
    held = 2 * HELD_PER_WORKER  # two workers
    accounts = tuple(f"a{n:02}" for n in range(2 * held + 3))
    path = write_project(tmp_path, _posts_of(accounts, 1), accounts)
    release = threading.Event()

    def held_until_released() -> None:  # each account's first call, so workers stay busy
        release.wait(10)

    for account in accounts:
        platform.script(account, held_until_released)
    first = Daemon(path, store, clock=FakeClock(T0), workers=2)
    second = Daemon(path, store, clock=FakeClock(T0), workers=2)
    first.sync()
    try:
        assert first.dispatcher.dispatch() == held
        assert second.dispatcher.dispatch() == held
        assert first.dispatcher.dispatch() == 0  # no room
    finally:
        release.set()
    assert first.dispatcher.wait(10) and second.dispatcher.wait(10)
    assert store.counts() == {Status.PUBLISHED: len(accounts)}
    keys = [call.key for call in platform.calls]
    assert len(keys) == len(accounts)  # each once
    assert set(keys) == {
        idempotency_key(p.entry, p.occurrence, p.account) for p in store.publications()
    }


def test_a_worker_that_cannot_take_more_accounts_frees_its_own_and_a_round_goes_on(
    tmp_path: Path,
    store: Store,
    platform: FakePlatform,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The round fills what one worker may hold; when the worker's queue runs dry its
    claim fails (the database went away, say): it logs that, the workers are idle, and
    the next round claims the rest."""
    accounts = tuple(f"a{n:02}" for n in range(HELD_PER_WORKER + 2))
    path = write_project(tmp_path, _posts_of(accounts, 1), accounts)
    daemon = Daemon(path, store, clock=FakeClock(T0), workers=1)
    daemon.sync()
    claim_next = store.claim_next

    def failing(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread().name.startswith("publish-"):
            raise OperationalError("claim", {}, Exception("database is gone"))
        return claim_next(*args, **kwargs)

    monkeypatch.setattr(store, "claim_next", failing)
    assert daemon.dispatcher.dispatch() == HELD_PER_WORKER
    assert daemon.dispatcher.wait(10)
    assert store.counts() == {Status.PUBLISHED: HELD_PER_WORKER, Status.PLANNED: 2}
    assert "taking the next accounts failed" in caplog.text
    monkeypatch.setattr(store, "claim_next", claim_next)
    assert daemon.dispatcher.dispatch() == 2
    assert daemon.dispatcher.wait(10)
    assert store.counts() == {Status.PUBLISHED: HELD_PER_WORKER + 2}


def test_a_claim_marks_as_sending_only_the_rows_it_is_told_to(
    tmp_path: Path, each_store: Store, platform: FakePlatform
) -> None:
    """On SQLite and PostgreSQL. A row marked as sending by its claim may have gone out when
    its worker dies: it is reconciled; the one only claimed goes back to ``planned``."""
    store = each_store
    accounts = ("alpha", "beta")
    path = write_project(tmp_path, _posts_of(accounts, 2), accounts)
    Daemon(path, store, clock=FakeClock(T0)).sync()
    sending, claimed = store.claim_next(T0, WORKER, timedelta(minutes=10), sending=1)
    assert sending.send_started_at is not None and claimed.send_started_at is None
    stored = store.get(sending.id or 0)
    assert stored is not None and stored.send_started_at is not None
    expired = store.expire_leases(T0 + timedelta(minutes=11))
    assert [row.id for row in expired] == [sending.id]
    assert expired[0].status == Status.UNKNOWN
    handed_back = store.get(claimed.id or 0)
    assert handed_back is not None and handed_back.status == Status.PLANNED
    assert handed_back.attempts == 0


def test_a_post_due_after_the_last_record_goes_out_in_the_next_round(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    """The last record of a turn found nothing due, so the worker claims nothing more: a post
    that comes due later is the next round's."""
    later = "- id: later\n  content: hello\n  to: [alpha]\n  at: 2026-03-01 12:05\n"
    clock = FakeClock(T0)
    daemon = Daemon(write_project(tmp_path, _posts(3) + later, ("alpha",)), store, clock=clock)
    assert [o.entry for o in daemon.tick()] == ["p000", "p001", "p002"]
    clock.advance(timedelta(minutes=5))
    assert [(o.entry, o.status) for o in daemon.tick()] == [("later", Status.PUBLISHED)]
    assert store.counts() == {Status.PUBLISHED: 4}


def test_a_stop_after_a_post_hands_back_the_one_it_had_started(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    daemon = Daemon(write_project(tmp_path, _posts(3), ("alpha",)), store, clock=FakeClock(T0))
    daemon.dispatcher.on_outcome = lambda _outcome: daemon.stop()  # right after p000 is recorded
    outcomes = daemon.tick()
    assert [(o.entry, o.status) for o in outcomes] == [
        ("p000", Status.PUBLISHED),
        ("p001", Status.PLANNED),
    ]
    assert len(platform.calls) == 1
    rows = {p.entry: p for p in store.publications()}
    assert rows["p001"].status == Status.PLANNED
    assert rows["p001"].attempts == 0 and rows["p001"].claimed_by is None
    assert rows["p002"].status == Status.PLANNED and rows["p002"].attempts == 0


def _two_rows(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> tuple[Publication, Publication]:
    daemon = Daemon(write_project(tmp_path, _posts(2), ("alpha",)), store, clock=FakeClock(T0))
    daemon.sync()
    (first,) = store.claim_next(T0, WORKER, timedelta(minutes=10))
    assert first.id is not None
    store.start_sending(first.id, WORKER, T0, timedelta(minutes=10))
    (following,) = [p for p in store.publications() if p.id != first.id]
    return first, following


def _ready(tmp_path: Path, store: Store, platform: FakePlatform) -> tuple[int, Publication]:
    """The id of the row being sent and the account's next row, as the worker read it."""
    first, following = _two_rows(tmp_path, store, platform)
    assert first.id is not None and following.id is not None
    return first.id, following


def _sent() -> Sent:
    return Sent("remote-1", "https://example.invalid/1", T0)


def _handover(following: Publication) -> Handover:
    """``following`` handed to the worker under a ten-minute lease, without a holder."""
    return Handover(following, timedelta(minutes=10), None)


def test_the_next_row_is_claimed_and_marked_as_sending_with_the_record(
    tmp_path: Path, each_store: Store, platform: FakePlatform
) -> None:
    """On SQLite and PostgreSQL."""
    store = each_store
    first_id, following = _ready(tmp_path, store, platform)
    handover = _handover(following)
    handed = record_and_hand_over(store, first_id, WORKER, T0, _sent(), handover)
    assert handed.recorded and handed.sending is not None and handed.upcoming is None
    recorded, started = store.get(first_id), store.get(following.id)
    assert recorded is not None and recorded.status == Status.PUBLISHED
    assert recorded.remote_id == "remote-1" and recorded.claimed_by is None
    assert started is not None and started.status == Status.PUBLISHING
    assert started.claimed_by == WORKER and started.attempts == 1
    assert started.send_started_at is not None
    # a process that dies now may have sent it: the row is reconciled, never re-sent blindly
    (expired,) = store.expire_leases(T0 + timedelta(minutes=11))
    assert expired.id == following.id and expired.status == Status.UNKNOWN


def test_the_handed_over_row_holds_what_its_claim_wrote(
    tmp_path: Path, each_store: Store, platform: FakePlatform
) -> None:
    """On SQLite and PostgreSQL: the worker's row is the stored row, field for field, as a
    load would leave it (nothing pending), holder included."""
    store = each_store
    first_id, following = _ready(tmp_path, store, platform)
    holder = Holder("host-1", 4321, 1234.5)
    handover = Handover(following, timedelta(minutes=10), holder)
    handed = record_and_hand_over(store, first_id, WORKER, T0, _sent(), handover)
    assert handed.sending is not None and following.id is not None
    stored = store.get(following.id)
    assert stored is not None and stored.claimed_host == "host-1"
    columns = Publication.__table__.columns  # type: ignore[attr-defined]
    handed_fields = {c.key: getattr(handed.sending, c.key) for c in columns}
    assert handed_fields == {c.key: getattr(stored, c.key) for c in columns}
    assert not inspect(handed.sending).modified


def test_a_next_row_that_changed_since_it_was_read_is_not_started(
    tmp_path: Path, each_store: Store, platform: FakePlatform
) -> None:
    """On SQLite and PostgreSQL."""
    store = each_store
    first_id, following = _ready(tmp_path, store, platform)
    # No other worker can claim it while this account has a post in flight
    # (store.claim_next), but a person can move it (crosspost resolve --retry) meanwhile.
    assert store.claim_next(T0, "host:2:other", timedelta(minutes=10), account="alpha") == []
    later = T0 + timedelta(hours=1)
    store.resolve(following.id, T0, Replanned(later, later + timedelta(hours=1)))
    handover = _handover(following)
    handed = record_and_hand_over(store, first_id, WORKER, T0, _sent(), handover)
    assert handed.recorded and handed.sending is None
    row = store.get(following.id)
    assert row is not None and row.status == Status.PLANNED and row.claimed_by is None
    assert row.send_started_at is None and row.attempts == 0


def test_a_lost_lease_records_nothing_and_starts_nothing(
    tmp_path: Path, each_store: Store, platform: FakePlatform
) -> None:
    """On SQLite and PostgreSQL."""
    store = each_store
    first_id, following = _ready(tmp_path, store, platform)
    handover = _handover(following)
    handed = record_and_hand_over(store, first_id, "host:3:gone", T0, _sent(), handover)
    assert not handed.recorded and handed.sending is None
    row = store.get(following.id)
    assert row is not None and row.status == Status.PLANNED and row.attempts == 0


def test_a_handed_over_post_of_an_account_removed_since_is_handed_back(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    first_id, following = _ready(tmp_path, store, platform)
    daemon = Daemon(tmp_path / "schedule.yaml", store, clock=FakeClock(T0))
    publisher = daemon.publisher
    publisher.worker_id = WORKER
    post = publisher.render(following)
    handover = _handover(following)
    handed = record_and_hand_over(store, first_id, WORKER, T0, _sent(), handover)
    assert handed.sending is not None
    del publisher.project.accounts["alpha"]  # as a reload that dropped the account would
    outcome = publisher.send_ready(Ready(handed.sending, post))
    assert outcome.status == Status.PLANNED and platform.calls == []
    row = store.get(following.id)
    assert row is not None and row.status == Status.PLANNED and row.attempts == 0


def _report(limits: dict[str, object], at: datetime) -> LimitsReport:
    return LimitsReport("alpha", "digest-1", limits, at)


def test_reported_limits_are_written_in_the_record_s_transaction(
    tmp_path: Path, each_store: Store, platform: FakePlatform
) -> None:
    """On SQLite and PostgreSQL, as remember_limits writes them: once, then when they change."""
    store = each_store
    first_id, following = _ready(tmp_path, store, platform)
    handover = _handover(following)
    limits = {"max_characters": 600}
    record_and_hand_over(store, first_id, WORKER, T0, _sent(), handover, _report(limits, T0))
    stored = stored_limits(store)["alpha"]
    assert (stored.settings_hash, stored.limits, stored.reported_at) == ("digest-1", limits, T0)
    assert following.id is not None
    later = T0 + timedelta(minutes=1)
    record_and_look(store, following.id, WORKER, later, _sent(), "alpha", _report(limits, later))
    assert stored_limits(store)["alpha"].reported_at == T0  # the same: left as it was
    assert not remember_limits(store, "alpha", "digest-1", limits, later)


def test_changed_limits_replace_the_stored_ones_and_a_lost_lease_writes_none(
    tmp_path: Path, each_store: Store, platform: FakePlatform
) -> None:
    """On SQLite and PostgreSQL."""
    store = each_store
    first_id, following = _ready(tmp_path, store, platform)
    remember_limits(store, "alpha", "digest-1", {"max_characters": 500}, T0)
    later = T0 + timedelta(minutes=1)
    changed = _report({"max_characters": 600}, later)
    lost = record_and_look(store, first_id, "host:3:gone", later, _sent(), "alpha", changed)
    assert not lost.recorded
    assert stored_limits(store)["alpha"].limits == {"max_characters": 500}
    assert record_and_look(store, first_id, WORKER, later, _sent(), "alpha", changed).recorded
    stored = stored_limits(store)["alpha"]
    assert (stored.limits, stored.reported_at) == ({"max_characters": 600}, later)


def test_limits_a_server_reports_with_the_first_post_cost_no_transaction_of_their_own(
    tmp_path: Path, store: Store, platform: FakePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    reported = {"max_characters": 700}
    report_limits(monkeypatch, reported)
    daemon = Daemon(write_project(tmp_path, _posts(5), ("alpha",)), store, clock=FakeClock(T0))
    daemon.sync()
    counts = _worker_commits(store)
    daemon.tick()
    assert store.counts() == {Status.PUBLISHED: 5}
    assert stored_limits(store)["alpha"].limits == reported
    assert counts == {"begin": 5, "commit": 5}


def test_a_reloaded_connector_is_asked_anew_whether_its_server_reports_limits(
    tmp_path: Path, store: Store, platform: FakePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The publisher asks once per connector (not after every post) whether it reports
    limits: a connector built by a reload is asked again."""
    path = write_project(tmp_path, _posts(1), ("alpha",))
    publisher = Daemon(path, store, clock=FakeClock(T0)).publisher
    assert publisher.limits.new("alpha") is None  # the fake connector reports none
    reported = {"max_characters": 700}
    report_limits(monkeypatch, reported)
    publisher.project = load_project(path)  # as a reload does: new connectors
    report = publisher.limits.new("alpha")
    assert report is not None and report.limits == reported


def test_a_turn_runs_on_one_connection_handed_back_when_it_ends(
    tmp_path: Path, each_store: Store, platform: FakePlatform
) -> None:
    """On SQLite and PostgreSQL the worker holds one connection through an account's turn,
    instead of taking one from the pool (which pings PostgreSQL) for each transaction, and
    hands it back at the end."""
    store = each_store
    daemon = Daemon(write_project(tmp_path, _posts(20), ("alpha",)), store, clock=FakeClock(T0))
    daemon.sync()
    taken: list[str] = []

    def checkout(*_args: object) -> None:
        if threading.current_thread().name.startswith("publish-"):
            taken.append(threading.current_thread().name)

    event.listen(store.engine, "checkout", checkout)
    daemon.tick()
    assert store.counts() == {Status.PUBLISHED: 20}
    assert len(taken) == 1  # before: one for each of the 20 transactions
    assert store.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


@pytest.mark.postgres
def test_a_turn_s_connection_the_server_closed_is_left_for_the_pool_s(
    tmp_path: Path, pg_url: str, platform: FakePlatform
) -> None:
    """A connection held through a turn that PostgreSQL ended (a restart of the server,
    say) is found closed before it is used, without a round trip: the record goes through
    a connection from the pool instead, and the post after it too."""
    store = Store(pg_url)
    try:
        first_id, following = _ready(tmp_path, store, platform)
        held = turn_connection(store)
        assert held is not None and not closed_by_server(held)
        backend = held.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with store.engine.connect() as admin:
            admin.exec_driver_sql(f"SELECT pg_terminate_backend({backend})")
        deadline = time.monotonic() + 10
        while not closed_by_server(held) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert closed_by_server(held)
        handed = record_and_hand_over(
            store, first_id, WORKER, T0, _sent(), _handover(following), connection=held
        )
        assert handed.recorded and handed.sending is not None and held.invalidated
        assert following.id is not None
        looked = record_and_look(store, following.id, WORKER, T0, _sent(), "alpha", connection=held)
        assert looked.recorded
        assert store.counts() == {Status.PUBLISHED: 2}
        held.close()
        assert store.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        store.close()


@pytest.mark.postgres
def test_turns_hold_connections_only_while_the_pool_keeps_room_for_short_ones(
    tmp_path: Path, pg_url: str, platform: FakePlatform
) -> None:
    """Workers beyond what the pool can spare take a connection for each statement, as
    the others' short transactions do, instead of waiting for another turn to end."""
    store = Store(pg_url)
    held = []
    try:
        first_id, following = _ready(tmp_path, store, platform)
        held = [turn_connection(store) for _ in range(HELD_AT_MOST)]
        assert all(connection is not None for connection in held)
        assert turn_connection(store) is None
        handover = _handover(following)
        assert record_and_hand_over(store, first_id, WORKER, T0, _sent(), handover).recorded
        held.pop().close()  # type: ignore[union-attr]
        another = turn_connection(store)
        assert another is not None
        held.append(another)
    finally:
        for connection in held:
            connection.close()  # type: ignore[union-attr]
        store.close()


@pytest.mark.postgres
def test_a_turn_s_connection_goes_back_to_the_pool_running_transactions_again(
    pg_url: str,
) -> None:
    """A turn's statements commit one by one (autocommit); what the pool hands out after
    the turn runs transactions again, as a claim's ``FOR UPDATE`` needs."""
    store = Store(pg_url)
    try:
        held = turn_connection(store)
        assert held is not None and held.connection.driver_connection.autocommit
        held.close()
        idle = store.engine.pool.checkedin()  # type: ignore[attr-defined]
        taken = [store.engine.connect() for _ in range(idle)]
        try:
            assert not any(c.connection.driver_connection.autocommit for c in taken)
        finally:
            for connection in taken:
                connection.close()
    finally:
        store.close()


def test_a_sqlite_connection_is_never_found_closed_by_a_server(store: Store) -> None:
    with store.engine.connect() as connection:
        assert not closed_by_server(connection)


def test_a_link_counts_as_closed_once_its_peer_wrote_or_hung_up() -> None:
    """What :func:`closed_by_server` asks of a connection's socket, without a wait."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        assert not _readable(ours.fileno())
        theirs.sendall(b"E")  # a server's last words: an error, then it hangs up
        assert _readable(ours.fileno())
    hung_up, peer = socket.socketpair()
    with hung_up:
        peer.close()
        assert _readable(hung_up.fileno())
