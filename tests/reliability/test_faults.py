"""Platform faults against the local mock Mastodon: drops, 429, 5xx, 401, dead workers.

Each test runs an in-process :class:`~crosspost.publishing.daemon.Daemon` on a fake clock
against :class:`~tests.mockplatform.MockMastodon` on 127.0.0.1, and checks the
store's rows against what the mock received and stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from crosspost.publishing.daemon import Daemon
from crosspost.publishing.outcome import idempotency_key
from crosspost.store import Store
from tests.mockplatform import Fault, MockMastodon
from tests.reliability.helpers import (
    STATUSES,
    Clock,
    at,
    by_status,
    files,
    folder_account,
    key_counts,
    make_daemon,
    mastodon_account,
    post_counts,
    posts_made,
    real_now,
    rewrite,
    status_by_id,
    ticks,
    write_project,
)

MINUTE = timedelta(minutes=1)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    made = Store(f"sqlite:///{tmp_path}/x.db")
    yield made
    made.close()


@pytest.fixture
def mock() -> Iterator[MockMastodon]:
    with MockMastodon(tokens=("t1", "t1-new", "t2")) as server:
        yield server


def one_post(t0_plus: str = "") -> str:
    return "- id: launch\n  content: c\n  to: [m1]\n  at: {when}\n".replace("{when}", t0_plus)


# --------------------------------------------------------------------------- accept then drop


def test_accept_then_drop_is_reconciled_to_the_stored_status_without_a_second_post(
    tmp_path: Path, store: Store, mock: MockMastodon
) -> None:
    t0 = real_now()
    path = write_project(tmp_path, mastodon_account("m1", mock.url, "TOK1"), one_post(at(t0)))
    clock = Clock(t0 + timedelta(seconds=1))
    daemon = make_daemon(path, store, clock, {"TOK1": "t1"})
    mock.fail_next("POST", STATUSES, Fault.accept_then_drop())

    (outcome,) = daemon.tick()

    (stored,) = mock.statuses
    (row,) = store.publications()
    assert (row.status, outcome.status) == ("published", "published")
    assert row.remote_id == stored["id"]
    assert row.url == stored["url"] == outcome.url
    (request,) = posts_made(mock)
    assert request.status is None and request.fault == "drop"  # the client saw no answer
    assert request.headers["idempotency-key"] == idempotency_key("launch", row.occurrence, "m1")
    ticks(daemon, clock, MINUTE, 3)
    assert len(posts_made(mock)) == 1


def test_a_failed_lookup_is_settled_by_resending_under_the_same_key(
    tmp_path: Path, store: Store, mock: MockMastodon
) -> None:
    t0 = real_now()
    path = write_project(tmp_path, mastodon_account("m1", mock.url, "TOK1"), one_post(at(t0)))
    clock = Clock(t0 + timedelta(seconds=1))
    daemon = make_daemon(path, store, clock, {"TOK1": "t1"})
    mock.fail_next("POST", STATUSES, Fault.accept_then_drop())
    mock.fail_next("GET", "/api/v1/accounts/*", Fault.status(503), times=20)

    daemon.tick()
    (row,) = store.publications()
    # stored by the mock, but the lookup failed: sent again under the same key
    assert row.status == "planned"
    mock.clear_faults()

    ticks(daemon, clock, MINUTE, 3)
    (row,) = store.publications()
    (stored,) = mock.statuses
    assert (row.status, row.url) == ("published", stored["url"])
    assert list(post_counts(mock).values()) == [2]  # the same key twice, one status


def test_dropped_post_is_not_reconciled_to_an_earlier_status_with_the_same_text(
    tmp_path: Path, store: Store, mock: MockMastodon
) -> None:
    t0 = real_now()
    (tmp_path / "templates").mkdir()
    path = write_project(
        tmp_path,
        mastodon_account("m1", mock.url, "TOK1"),
        f"- id: daily\n  content: c\n  to: [m1]\n  every: 1h\n  start: {at(t0 + MINUTE)}\n",
    )
    # a template without the occurrence: every occurrence has the same text
    (tmp_path / "templates" / "default.j2").write_text("{{ body }}\n", encoding="utf-8")
    clock = Clock(t0)
    daemon = make_daemon(path, store, clock, {"TOK1": "t1"})
    daemon.tick()
    clock.advance(MINUTE)
    daemon.tick()
    assert len(mock.statuses) == 1
    mock.fail_next("POST", STATUSES, Fault.drop())  # not stored this time

    clock.advance(timedelta(hours=1))
    daemon.tick()

    first, second = store.publications()[:2]
    assert first.status == "published"
    assert len(mock.statuses) == 1
    assert second.status != "published" or second.remote_id != first.remote_id


# --------------------------------------------------------------------------- 429


def test_rate_limit_pauses_only_that_account_and_honours_retry_after(
    tmp_path: Path, store: Store
) -> None:
    t0 = real_now()
    with MockMastodon(tokens=("t1",)) as limited, MockMastodon(tokens=("t2",)) as other:
        accounts = mastodon_account("m1", limited.url, "TOK1") + mastodon_account(
            "m2", other.url, "TOK2"
        )
        posts = "".join(
            f"- id: p{n}\n  content: c\n  to: [m1, m2]\n  at: {at(t0 + n * MINUTE)}\n"
            for n in range(3)
        )
        path = write_project(tmp_path, accounts, posts)
        clock = Clock(t0)
        daemon = make_daemon(path, store, clock, {"TOK1": "t1", "TOK2": "t2"})
        limited.fail_next("POST", STATUSES, Fault.rate_limit(retry_after=300))

        daemon.tick()  # p0: m1 is limited, m2 publishes
        assert len(other.statuses) == 1 and limited.statuses == []
        ticks(daemon, clock, MINUTE, 3)  # t0+3m: inside m1's pause
        assert len(other.statuses) == 3  # m2 kept its times
        m2_rows = [r for r in store.publications() if r.account == "m2"]
        assert [r.status for r in m2_rows] == ["published"] * 3
        assert limited.statuses == []
        assert len(posts_made(limited)) == 1  # nobody knocked during the pause
        m1_rows = [r for r in store.publications() if r.account == "m1"]
        assert [r.status for r in m1_rows] == ["planned"] * 3
        retry_at = m1_rows[0].next_attempt_at
        assert retry_at is not None
        assert abs((retry_at - t0).total_seconds() - 300) <= 5

        clock.now = t0 + timedelta(seconds=290)
        daemon.tick()
        assert limited.statuses == []
        clock.now = t0 + timedelta(seconds=310)
        daemon.tick()
        assert len(limited.statuses) == 3
        assert all(r.status == "published" for r in store.publications())
        assert max(key_counts(limited).values()) == 1


# --------------------------------------------------------------------------- 5xx


def test_server_errors_are_retried_with_backoff_then_published_once(
    tmp_path: Path, store: Store, mock: MockMastodon
) -> None:
    t0 = real_now()
    path = write_project(tmp_path, mastodon_account("m1", mock.url, "TOK1"), one_post(at(t0)))
    clock = Clock(t0)
    daemon = make_daemon(path, store, clock, {"TOK1": "t1"})
    mock.fail_next("POST", STATUSES, Fault.status(500), times=2)

    daemon.tick()
    (row,) = store.publications()
    assert (row.status, row.attempts) == ("planned", 1)
    assert row.next_attempt_at is not None
    first_delay = row.next_attempt_at - t0
    assert timedelta(seconds=15) <= first_delay <= timedelta(seconds=45)  # 30 s ± jitter
    assert "500" in (row.error or "")

    daemon.tick()  # not before the backoff
    assert len(posts_made(mock)) == 1

    clock.now = row.next_attempt_at
    daemon.tick()
    (row,) = store.publications()
    assert (row.status, row.attempts) == ("planned", 2)
    assert row.next_attempt_at is not None
    assert row.next_attempt_at - clock.now >= timedelta(seconds=30)  # 60 s ± jitter

    clock.now = row.next_attempt_at
    daemon.tick()
    (row,) = store.publications()
    (stored,) = mock.statuses
    assert (row.status, row.attempts, row.url) == ("published", 3, stored["url"])
    keys = {r.headers["idempotency-key"] for r in posts_made(mock)}
    assert len(posts_made(mock)) == 3 and len(keys) == 1  # the same key each time


def test_server_error_after_storing_is_retried_safely_thanks_to_the_key(
    tmp_path: Path, store: Store, mock: MockMastodon
) -> None:
    t0 = real_now()
    path = write_project(tmp_path, mastodon_account("m1", mock.url, "TOK1"), one_post(at(t0)))
    clock = Clock(t0)
    daemon = make_daemon(path, store, clock, {"TOK1": "t1"})
    mock.fail_next("POST", STATUSES, Fault.status(502, after=True))

    daemon.tick()
    ticks(daemon, clock, MINUTE, 2)

    (row,) = store.publications()
    (stored,) = mock.statuses  # the retry got the same status back
    assert (row.status, row.remote_id) == ("published", stored["id"])
    assert len(posts_made(mock)) == 2


def test_server_errors_give_up_after_max_attempts(
    tmp_path: Path, store: Store, mock: MockMastodon
) -> None:
    t0 = real_now()
    path = write_project(tmp_path, mastodon_account("m1", mock.url, "TOK1"), one_post(at(t0)))
    clock = Clock(t0)
    daemon = make_daemon(path, store, clock, {"TOK1": "t1"})
    mock.fail_next("POST", STATUSES, Fault.status(503), times=50)

    ticks(daemon, clock, timedelta(hours=1), 8)

    (row,) = store.publications()
    assert row.status == "failed"
    assert row.error is not None and row.error.startswith("gave up after 5 attempts")
    assert len(posts_made(mock)) == 5 and mock.statuses == []


# --------------------------------------------------------------------------- 401


def _auth_project(tmp_path: Path, url: str, token_var: str, t0_text: list[str]) -> str:
    accounts = (
        mastodon_account("m1", url, token_var)
        + mastodon_account("m2", url, "TOK2")
        + folder_account("alerts", "alerts")
    )
    posts = "".join(
        f"- id: p{n}\n  content: c\n  to: [m1]\n  at: {when}\n" for n, when in enumerate(t0_text)
    )
    posts += f"- id: other\n  content: c\n  to: [m2]\n  at: {t0_text[0]}\n"
    return (
        f"timezone: UTC\naccounts:\n{accounts}"
        "content:\n  - id: c\n    body: Hello from the makerspace.\n"
        "notify:\n  to: [alerts]\nposts:\n" + "".join(f"  {line}\n" for line in posts.splitlines())
    )


def test_unauthorized_fails_one_post_notifies_once_and_holds_the_rest_until_reload(
    tmp_path: Path, store: Store, mock: MockMastodon
) -> None:
    t0 = real_now()
    times = [at(t0), at(t0), at(t0 + MINUTE)]
    path = write_project(tmp_path, "", "")
    path.write_text(_auth_project(tmp_path, mock.url, "TOK1", times), encoding="utf-8")
    clock = Clock(t0)
    secrets = {"TOK1": "t1", "TOK1_NEW": "t1-new", "TOK2": "t2"}
    daemon = make_daemon(path, store, clock, secrets)
    daemon.dispatcher.workers = 1  # m1 first, then m2, in one thread
    mock.fail_next("POST", STATUSES, Fault.unauthorized())

    daemon.tick()
    ticks(daemon, clock, MINUTE, 3)

    grouped = {(r.entry, r.account): r for r in store.publications()}
    failed = grouped[("p0", "m1")]
    assert failed.status == "failed"
    assert "credentials refused" in (failed.error or "")
    assert "t1" not in (failed.error or "").split()  # no token in the message
    for held in ("p1", "p2"):
        assert (grouped[(held, "m1")].status, grouped[(held, "m1")].attempts) == ("planned", 0)
    assert grouped[("other", "m2")].status == "published"
    assert len(posts_made(mock)) == 2  # m1 once (401), m2 once; held posts not tried
    notes = files(tmp_path / "alerts")
    assert notes  # exactly one: see test_unauthorized_sends_exactly_one_notification
    assert sum("stopped working" in p.read_text(encoding="utf-8") for p in notes) == 1

    text = path.read_text(encoding="utf-8").replace("${TOK1}", "${TOK1_NEW}")
    rewrite(path, text)
    daemon.reload_if_changed()  # seen now, applied once it stayed unchanged for a moment
    ticks(daemon, clock, timedelta(seconds=10), 1)

    grouped = {(r.entry, r.account): r for r in store.publications()}
    assert grouped[("p1", "m1")].status == "published"
    assert grouped[("p2", "m1")].status == "published"
    assert grouped[("p0", "m1")].status == "failed"  # a person resends it, not the daemon
    assert files(tmp_path / "alerts") == notes  # nothing new to tell


def test_unauthorized_sends_exactly_one_notification(
    tmp_path: Path, store: Store, mock: MockMastodon
) -> None:
    t0 = real_now()
    path = write_project(tmp_path, "", "")
    path.write_text(_auth_project(tmp_path, mock.url, "TOK1", [at(t0), at(t0)]), encoding="utf-8")
    clock = Clock(t0)
    daemon = make_daemon(path, store, clock, {"TOK1": "t1", "TOK2": "t2"})
    mock.fail_next("POST", STATUSES, Fault.unauthorized())

    ticks(daemon, clock, MINUTE, 5)

    # the two accounts publish in parallel: the 401 reaches whichever posts first
    (refused,) = {r.account for r in store.publications() if r.status == "failed"}
    notes = [p.read_text(encoding="utf-8") for p in files(tmp_path / "alerts")]
    assert notes and all(refused in note for note in notes)
    assert not any(token in note.split() for note in notes for token in ("t1", "t2"))
    assert len(notes) == 1, notes


# --------------------------------------------------------------------------- lease expiry


def _dead_worker(tmp_path: Path, store: Store, mock: MockMastodon) -> tuple[Daemon, Clock, int]:
    """One post due now, claimed by a worker that died after it started sending."""
    t0 = real_now()
    path = write_project(tmp_path, mastodon_account("m1", mock.url, "TOK1"), one_post(at(t0)))
    clock = Clock(t0)
    daemon = make_daemon(path, store, clock, {"TOK1": "t1"})
    daemon.sync()
    return daemon, clock, _claim_and_die(store, clock)


def _claim_and_die(store: Store, clock: Clock) -> int:
    """A worker claims the due row with a 5 s lease and dies; returns the row id."""
    (row,) = store.claim_due(clock(), "dead-host:1:0", timedelta(seconds=5))
    assert row.id is not None
    assert store.start_sending(row.id, "dead-host:1:0", clock(), timedelta(seconds=5))
    return row.id


def test_expired_lease_found_on_the_platform_becomes_published_without_a_post(
    tmp_path: Path, store: Store, mock: MockMastodon
) -> None:
    daemon, clock, row_id = _dead_worker(tmp_path, store, mock)
    row = store.get(row_id)
    assert row is not None
    # the dead worker's request did reach the platform
    post = daemon.publisher.render(row)
    key = idempotency_key(row.entry, row.occurrence, row.account)
    sent = daemon.project.connector("m1").publish(post, key)
    before = len(posts_made(mock))

    clock.advance(timedelta(seconds=2))
    daemon.tick()  # lease still valid: nobody touches the row
    assert store.get(row_id).status == "publishing"  # type: ignore[union-attr]
    clock.advance(timedelta(seconds=10))
    daemon.tick()

    row = store.get(row_id)
    assert row is not None
    assert (row.status, row.remote_id, row.url) == ("published", sent.remote_id, sent.url)
    assert len(posts_made(mock)) == before  # looked up, never re-POSTed
    ticks(daemon, clock, MINUTE, 3)
    assert len(posts_made(mock)) == before and len(mock.statuses) == 1


def test_expired_lease_not_found_is_sent_again_with_the_same_key(
    tmp_path: Path, store: Store, mock: MockMastodon
) -> None:
    daemon, clock, row_id = _dead_worker(tmp_path, store, mock)

    clock.advance(timedelta(seconds=10))
    outcomes = daemon.tick()  # not on the platform, and Mastodon still knows the key
    assert [o.status for o in outcomes] == ["planned", "published"]  # queued, then sent
    ticks(daemon, clock, MINUTE, 3)

    row = store.get(row_id)
    assert row is not None and row.status == "published"
    (stored,) = mock.statuses
    assert row.url == stored["url"]
    assert list(post_counts(mock).values()) == [1]


def test_expired_lease_not_found_after_the_key_expired_becomes_unknown_and_is_not_resent(
    tmp_path: Path, store: Store, mock: MockMastodon
) -> None:
    daemon, clock, row_id = _dead_worker(tmp_path, store, mock)

    clock.advance(timedelta(hours=2))  # Mastodon forgets idempotency keys after an hour
    outcomes = daemon.tick()
    ticks(daemon, clock, MINUTE, 3)

    row = store.get(row_id)
    assert row is not None
    assert row.status == "unknown"
    assert row.error == "the worker stopped while publishing; it may have gone out"
    assert [o.status for o in outcomes] == ["unknown"]
    assert posts_made(mock) == [] and mock.statuses == []
    assert by_status(store).keys() == {"unknown"}
    assert post_counts(mock) == {} and status_by_id(mock) == {}
