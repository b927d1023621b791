"""Claim → publish → record: what each connector outcome does to the publication's row."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.base import AuthError, RateLimited, Rejected, Transient, Unknown
from crosspost.loading.accounts import settings_hash
from crosspost.loading.project import load_project
from crosspost.publishing import upkeep
from crosspost.publishing.outcome import idempotency_key
from crosspost.publishing.publisher import Publisher
from crosspost.store import PlannedRow, Publication, Store
from crosspost.store.account_state import holds
from crosspost.store.models import AccountHold
from tests.fakes import FakeClock, FakePlatform, install, partial_thread, write_project

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POSTS = """\
- id: launch
  content: hello
  to: [alpha, beta]
  at: 2026-03-01 12:00
"""


def utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


class World:
    """A project of fake accounts, a SQLite store and a publisher on a fake clock."""

    def __init__(
        self,
        tmp_path: Path,
        platform: FakePlatform,
        connector: str = "fake",
        **publisher_args: object,
    ) -> None:
        self.platform = platform
        path = write_project(tmp_path, POSTS, ("alpha", "beta"), connector=connector)
        self.project = load_project(path)
        self.store = Store(f"sqlite:///{tmp_path}/x.db")
        self.clock = FakeClock(T0)
        self.publisher = Publisher(self.store, self.project, clock=self.clock, **publisher_args)  # type: ignore[arg-type]

    def plan(self, *keys: tuple[str, str], grace: timedelta = timedelta(hours=1)) -> None:
        """Planned rows of ``launch`` for (occurrence, account) pairs, due at T0."""
        self.store.add_planned(
            [PlannedRow("launch", occ, account, "hello", T0, T0 + grace) for occ, account in keys],
            T0,
        )

    def rows(self) -> dict[tuple[str, str], Publication]:
        return {(p.occurrence, p.account): p for p in self.store.publications()}

    def close(self) -> None:
        self.store.close()


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    made = World(tmp_path, install(monkeypatch), max_attempts=3)
    yield made  # type: ignore[misc]
    made.close()


@pytest.fixture
def reconciling(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    made = World(tmp_path, install(monkeypatch), connector="fake-reconcile")
    yield made  # type: ignore[misc]
    made.close()


def test_published_records_remote_id_and_url_in_the_same_row(world: World) -> None:
    world.plan(("o1", "alpha"))
    (outcome,) = world.publisher.run_due()
    assert outcome.status == "published"
    row = world.rows()[("o1", "alpha")]
    assert row.status == "published"
    assert row.remote_id == "alpha-1-0"
    assert row.url == "https://fake.example/alpha/alpha-1-0" == outcome.url
    assert row.attempts == 1 and row.error is None and row.text_hash
    assert (row.claimed_by, row.claimed_until) == (None, None)
    (call,) = world.platform.calls
    assert call.key == idempotency_key("launch", "o1", "alpha")
    assert "Hello from the makerspace." in call.text
    assert world.publisher.run_due() == []  # nothing left to do
    assert len(world.platform.calls) == 1


def test_a_publication_is_one_info_line_naming_the_entry_and_where_it_went(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """At ``--log-level INFO`` a post is one line (the connector's call is at DEBUG): three
    lines a post, two saying the same, made a busy daemon's log hard to read."""
    path = write_project(tmp_path, POSTS, connector="folder")
    path.write_text(
        path.read_text().replace("connector: folder\n", "connector: folder\n    path: out\n")
    )
    store = Store(f"sqlite:///{tmp_path}/x.db")
    store.add_planned(
        [PlannedRow("launch", "o1", "alpha", "hello", T0, T0 + timedelta(hours=1))], T0
    )
    publisher = Publisher(store, load_project(path), clock=FakeClock(T0))
    with caplog.at_level(logging.INFO):
        (outcome,) = publisher.run_due()
    store.close()
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert outcome.url and infos == [f"published launch to alpha: {outcome.url}"]


def test_published_extra_is_kept_with_the_publication(world: World) -> None:
    """What the connector needs again (album ids, a cid) lives in the store, not beside it."""
    world.plan(("o1", "alpha"))
    world.platform.script("alpha", "ok")
    world.publisher.run_due()
    assert world.rows()[("o1", "alpha")].extra == {"album": ["alpha-1-0"]}


def test_rejected_fails_with_the_reason_and_is_never_retried(world: World) -> None:
    world.plan(("o1", "alpha"))
    world.platform.script(
        "alpha", Rejected("text is too long", platform="fake", account="alpha", status=422)
    )
    (outcome,) = world.publisher.run_due()
    row = world.rows()[("o1", "alpha")]
    assert (row.status, outcome.status) == ("failed", "failed")
    assert row.error == "fake/alpha: text is too long (HTTP 422)"
    world.clock.advance(timedelta(hours=2))
    assert world.publisher.run_due() == []
    assert len(world.platform.calls) == 1


def test_auth_error_fails_the_row_and_holds_the_accounts_others(world: World) -> None:
    world.plan(("o1", "alpha"), ("o2", "alpha"), ("o1", "beta"))
    world.platform.script("alpha", AuthError("token revoked", platform="fake", account="alpha"))
    world.publisher.run_due()
    rows = world.rows()
    assert rows[("o1", "alpha")].status == "failed"
    assert "token revoked" in (rows[("o1", "alpha")].error or "")
    held = rows[("o2", "alpha")]
    assert held.status == "planned" and held.attempts == 0  # held, not failed
    assert rows[("o1", "beta")].status == "published"
    world.clock.advance(timedelta(minutes=5))
    world.publisher.run_due()  # still held: alpha is not called again
    assert sorted(c.account for c in world.platform.calls) == ["alpha", "beta"]
    assert world.rows()[("o2", "alpha")].status == "planned"


def test_a_round_reads_the_holds_once_and_lifts_those_whose_settings_changed(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.plan(("o1", "alpha"), ("o2", "alpha"))
    world.platform.script("alpha", AuthError("token revoked", platform="fake", account="alpha"))
    world.publisher.run_due()
    reads = []

    def counted(store: Store) -> list[AccountHold]:
        reads.append(store)
        return holds(store)

    monkeypatch.setattr(upkeep, "holds", counted)
    world.publisher.upkeep.refresh_holds()
    assert reads == [world.store] and set(world.publisher.held) == {"alpha"}
    alpha = world.project.accounts["alpha"]
    renewed = replace(alpha, settings=alpha.settings.model_copy(update={"label": "new token"}))
    assert settings_hash(renewed) != settings_hash(alpha)  # worked out for each account
    world.project.accounts["alpha"] = renewed  # as a reload with a new token would
    world.publisher.upkeep.refresh_holds()
    assert len(reads) == 2 and world.publisher.held == {}
    assert [hold.account for hold in holds(world.store)] == []


def test_rate_limited_goes_back_to_planned_at_retry_at_and_others_go_on(world: World) -> None:
    world.plan(("o1", "alpha"), ("o2", "alpha"), ("o1", "beta"), ("o2", "beta"))
    retry_at = T0 + timedelta(minutes=10)
    world.platform.script("alpha", RateLimited("slow down", retry_at=retry_at))
    outcomes = world.publisher.run_due()
    assert sorted((o.account, o.status) for o in outcomes) == [
        ("alpha", "planned"),
        ("alpha", "planned"),
        ("beta", "published"),
        ("beta", "published"),
    ]
    rows = world.rows()
    for occurrence in ("o1", "o2"):
        row = rows[(occurrence, "alpha")]
        assert row.status == "planned"
        assert utc(row.next_attempt_at) == retry_at
        assert row.attempts == 0  # a rate limit is not a failed attempt
    world.clock.advance(timedelta(minutes=5))
    assert world.publisher.run_due() == []
    world.clock.set(retry_at)
    assert [o.status for o in world.publisher.run_due()] == ["published", "published"]
    assert len(world.platform.published("alpha")) == 2
    assert len(world.platform.calls) == 5  # one refused call, four posts


def test_transient_is_retried_with_backoff_then_fails_after_max_attempts(world: World) -> None:
    world.plan(("o1", "alpha"))
    world.platform.script("alpha", *[Transient("HTTP 503", status=503)] * 3)
    (first,) = world.publisher.run_due()
    row = world.rows()[("o1", "alpha")]
    assert (first.status, row.status, row.attempts) == ("planned", "planned", 1)
    delay = utc(row.next_attempt_at) - T0  # type: ignore[operator]
    assert timedelta(seconds=15) <= delay <= timedelta(seconds=45)  # 30 s ± jitter
    assert world.publisher.run_due() == []  # not before the backoff ends
    world.clock.advance(timedelta(minutes=2))
    world.publisher.run_due()
    row = world.rows()[("o1", "alpha")]
    assert (row.status, row.attempts) == ("planned", 2)
    second_delay = utc(row.next_attempt_at) - world.clock()  # type: ignore[operator]
    assert timedelta(seconds=30) <= second_delay <= timedelta(seconds=90)  # doubled
    world.clock.advance(timedelta(minutes=5))
    (last,) = world.publisher.run_due()
    row = world.rows()[("o1", "alpha")]
    assert (last.status, row.status, row.attempts) == ("failed", "failed", 3)
    assert row.error is not None and row.error.startswith("gave up after 3 attempts")
    world.clock.advance(timedelta(hours=1))
    assert world.publisher.run_due() == []
    assert len(world.platform.calls) == 3


def test_transient_then_success_is_published_with_the_same_key(world: World) -> None:
    world.plan(("o1", "alpha"))
    world.platform.script("alpha", Transient("timeout before sending"))
    world.publisher.run_due()
    world.clock.advance(timedelta(minutes=2))
    (outcome,) = world.publisher.run_due()
    assert outcome.status == "published"
    keys = {c.key for c in world.platform.calls}
    assert keys == {idempotency_key("launch", "o1", "alpha")}


def test_unknown_without_reconcile_stays_unknown_and_is_never_resent(world: World) -> None:
    world.plan(("o1", "alpha"))
    world.platform.script("alpha", Unknown("read timeout after POST"))
    (outcome,) = world.publisher.run_due()
    row = world.rows()[("o1", "alpha")]
    assert (outcome.status, row.status) == ("unknown", "unknown")
    assert "read timeout after POST" in (row.error or "")
    world.clock.advance(timedelta(hours=3))
    assert world.publisher.run_due() == []
    assert len(world.platform.calls) == 1


def test_unknown_is_reconciled_with_find_recent_when_declared(reconciling: World) -> None:
    reconciling.plan(("o1", "alpha"))
    reconciling.platform.landed.add("alpha")  # the POST did go through
    reconciling.platform.script("alpha", Unknown("read timeout after POST"))
    (outcome,) = reconciling.publisher.run_due()
    row = reconciling.rows()[("o1", "alpha")]
    assert (outcome.status, row.status) == ("published", "published")
    assert row.remote_id == "alpha-1-0" and row.url == "https://fake.example/alpha/alpha-1-0"
    assert len(reconciling.platform.calls) == 1  # found, not resent


def test_unknown_that_reconcile_cannot_find_stays_unknown(reconciling: World) -> None:
    reconciling.plan(("o1", "alpha"))
    reconciling.platform.script("alpha", Unknown("read timeout after POST"))
    (outcome,) = reconciling.publisher.run_due()
    assert outcome.status == "unknown"
    assert reconciling.rows()[("o1", "alpha")].status == "unknown"


def test_partial_thread_is_published_with_a_note(world: World) -> None:
    world.plan(("o1", "alpha"))
    world.platform.script(
        "alpha", partial_thread(Transient("part 2 failed", platform="fake", account="alpha"))
    )
    (outcome,) = world.publisher.run_due()
    row = world.rows()[("o1", "alpha")]
    assert (outcome.status, row.status) == ("published", "published")
    assert row.remote_id == "alpha-1-0"
    assert row.error == "thread incomplete, later parts failed: fake/alpha: part 2 failed"
    world.clock.advance(timedelta(hours=1))
    assert world.publisher.run_due() == []  # the parts that went out are not resent
    assert len(world.platform.calls) == 1


def _die_while_publishing(world: World) -> None:
    """A worker claims both rows and dies; alpha's post had gone out, beta's had not."""
    world.plan(("o1", "alpha"), ("o1", "beta"))
    for claimed in world.store.claim_due(T0, "a-worker-that-died", world.publisher.lease):
        assert claimed.id is not None
        world.store.start_sending(claimed.id, "a-worker-that-died", T0, world.publisher.lease)
    world.platform.make_published("alpha", idempotency_key("launch", "o1", "alpha"), 1)
    world.clock.advance(world.publisher.lease + timedelta(seconds=1))


def test_expired_lease_is_never_resent(reconciling: World) -> None:
    _die_while_publishing(reconciling)
    outcomes = {o.account: o.status for o in reconciling.publisher.run_due()}
    assert outcomes == {"alpha": "published", "beta": "unknown"}
    assert reconciling.rows()[("o1", "beta")].status == "unknown"
    reconciling.clock.advance(timedelta(hours=1))
    assert reconciling.publisher.run_due() == []
    assert reconciling.platform.calls == []  # nothing re-sent


def test_expired_lease_found_by_reconcile_is_recorded_published(reconciling: World) -> None:
    _die_while_publishing(reconciling)
    reconciling.publisher.run_due()
    row = reconciling.rows()[("o1", "alpha")]
    assert row.remote_id == "alpha-1-0"
    assert row.status == "published"


def test_grace_passed_before_first_try_is_missed(world: World) -> None:
    world.plan(("o1", "alpha"), grace=timedelta(minutes=5))
    world.clock.advance(timedelta(minutes=6))
    (outcome,) = world.publisher.run_due()
    assert outcome.status == "missed"
    assert world.rows()[("o1", "alpha")].status == "missed"
    assert world.platform.calls == []
