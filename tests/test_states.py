"""States that must outlive a process: holds, lease holders, one-off sources, exit codes."""

from __future__ import annotations

import json
import os
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest
import responses
from click.testing import CliRunner, Result

from connectors.base import AuthError, Rejected, Transient, Unknown
from connectors.http import HttpClient, Kind
from crosspost.cli import cli
from crosspost.loading.project import load_project
from crosspost.publishing.daemon import Daemon
from crosspost.publishing.oneoff import publish_now
from crosspost.publishing.publisher import Publisher
from crosspost.status import Status
from crosspost.store import PlannedRow, Store
from crosspost.store.account_state import holds
from crosspost.store.lease import Holder, host_identity
from tests.fakes import FakeClock, FakePlatform, write_project

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POSTS = """\
- id: a
  content: hello
  to: [alpha, beta]
  at: 2026-03-01 11:58
- id: b
  content: other
  to: [alpha]
  at: 2026-03-01 12:30
"""


# the `platform` and `store` fixtures are the shared ones of tests/conftest.py


def cli_run(schedule: Path, store: Store, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-s", str(schedule), "--database", store.url, *args])


def calls_of(platform: FakePlatform, account: str) -> int:
    return sum(1 for c in platform.calls if c.account == account)


# --------------------------------------------------------------------------- 5: holds


def _revoked(tmp_path: Path, store: Store, platform: FakePlatform, clock: FakeClock) -> Path:
    """A cron run in which alpha's token turns out revoked; the schedule's path."""
    path = write_project(tmp_path, POSTS)
    platform.script("alpha", AuthError("token revoked", platform="fake", account="alpha"))
    Daemon(path, store, clock=clock).run_once()
    return path


def test_a_credentials_hold_outlives_the_process_under_cron(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    clock = FakeClock(T0)
    path = _revoked(tmp_path, store, platform, clock)
    assert [h.account for h in holds(store)] == ["alpha"]
    clock.advance(timedelta(minutes=40))  # b is due now; a second cron run, a new process
    Daemon(path, store, clock=clock).run_once()
    assert calls_of(platform, "alpha") == 1  # nothing more sent and failed
    assert [p.status for p in store.publications(accounts=["alpha"]) if p.entry == "b"] == [
        "planned"
    ]
    shown = json.loads(cli_run(path, store, "status", "--json").output)
    assert [h["account"] for h in shown["held_accounts"]] == ["alpha"]
    assert "token revoked" in shown["held_accounts"][0]["reason"]
    text = cli_run(path, store, "status")
    assert text.exit_code == 1 and "held accounts" in text.output


def test_a_hold_is_lifted_when_the_accounts_settings_change(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    clock = FakeClock(T0 + timedelta(minutes=40))
    path = _revoked(tmp_path, store, platform, clock)
    assert holds(store)
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            "alpha:\n    connector: fake\n", "alpha:\n    connector: fake\n    label: renewed\n"
        ),
        encoding="utf-8",
    )
    Daemon(path, store, clock=clock).run_once()
    assert holds(store) == []
    assert calls_of(platform, "alpha") == 2  # the held post b went out with the new settings


def test_resolve_account_retry_lifts_the_hold_and_retries_the_failed_post(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    clock = FakeClock(T0)
    path = _revoked(tmp_path, store, platform, clock)
    result = cli_run(path, store, "resolve", "--account", "alpha", "--retry", "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["lifted_holds"] == ["alpha"]
    assert [(p["entry"], p["status"]) for p in answer["publications"]] == [("a", "planned")]
    assert holds(store) == []


# --------------------------------------------------------------------------- 6: exit codes


def test_daemon_once_exits_1_and_says_when_a_due_post_is_retried(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    posts = (
        "- {id: now, content: hello, to: [alpha, beta], at: '2020-01-01 00:00',"
        " missed: publish, grace: 3650d}\n"
    )
    path = write_project(tmp_path, posts)
    platform.script("alpha", Transient("platform error: HTTP 502 Bad Gateway (HTML page)"))
    result = cli_run(path, store, "daemon", "--once")
    assert result.exit_code == 1, result.output
    assert "now → alpha: not sent yet (" in result.output
    assert "retried from" in result.output
    assert calls_of(platform, "beta") == 1
    platform.reset()
    again = cli_run(path, store, "daemon", "--once")  # retry not due yet: still not out
    assert again.exit_code == 1 and "retried from" in again.output


def test_publish_exits_1_and_says_the_daemon_retries_it(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    path = write_project(tmp_path, "[]\n")
    platform.script("alpha", Transient("could not connect"))
    result = cli_run(path, store, "publish", "hello", "--to", "alpha,beta")
    assert result.exit_code == 1, result.output
    assert "could not connect" in result.output and "retried from" in result.output
    assert cli_run(path, store, "publish", "other", "--to", "beta").exit_code == 0


@responses.activate
def test_an_html_error_page_is_summarised_never_dumped() -> None:
    page = "<!DOCTYPE html><html><head><title>502</title></head><body>" + "x" * 5000
    responses.post("https://api.example/post", body=page, status=502, content_type="text/html")
    responses.get("https://api.example/read", body="upstream timed out\nmore", status=503)
    client = HttpClient("demo", "acct", base_url="https://api.example")
    with pytest.raises(Unknown) as caught:  # an unkeyed write answered 5xx may have landed
        client.request("POST", "/post", kind=Kind.PUBLISHING_WRITE)
    assert "HTTP 502 Bad Gateway (HTML page) from api.example" in str(caught.value)
    assert "<" not in str(caught.value)
    with pytest.raises(Transient) as read:
        client.request("GET", "/read", kind=Kind.READ)
    assert "HTTP 503 Service Unavailable from api.example: upstream timed out" in str(read.value)


# --------------------------------------------------------------------------- 7: lease holders


def _free_pid() -> int:
    pid = 4_000_000
    while psutil.pid_exists(pid):
        pid += 1
    return pid


def _claimed(store: Store, holder: Holder, *, started: bool) -> int:
    store.add_planned([PlannedRow("a", "o1", "alpha", "hello", T0, T0 + timedelta(hours=1))], T0)
    (row,) = store.claim_due(
        T0, f"{holder.host}:{holder.pid}:dead", timedelta(hours=1), holder=holder
    )
    assert row.id is not None
    if started:
        store.start_sending(row.id, f"{holder.host}:{holder.pid}:dead", T0, timedelta(hours=1))
    return row.id


def _publisher(tmp_path: Path, store: Store, clock: FakeClock) -> Publisher:
    return Publisher(store, load_project(write_project(tmp_path, POSTS)), clock=clock)


@pytest.mark.parametrize(("started", "expected"), [(False, "published"), (True, "unknown")])
def test_a_lease_of_a_dead_process_on_this_host_expires_at_once(
    tmp_path: Path, store: Store, platform: FakePlatform, started: bool, expected: str
) -> None:
    dead = Holder(host_identity(), _free_pid(), 1.0)
    row_id = _claimed(store, dead, started=started)
    clock = FakeClock(T0 + timedelta(minutes=1))  # the one-hour lease is far from over
    _publisher(tmp_path, store, clock).run_due()
    row = store.get(row_id)
    assert row is not None and row.status == expected
    assert calls_of(platform, "alpha") == (0 if started else 1)  # never resent blindly


def test_a_reused_pid_is_not_the_holder(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    # pid 1 runs, but started long before this made-up start time
    reused = Holder(host_identity(), 1, psutil.Process(1).create_time() + 3600)
    row_id = _claimed(store, reused, started=False)
    _publisher(tmp_path, store, FakeClock(T0 + timedelta(minutes=1))).run_due()
    row = store.get(row_id)
    assert row is not None and row.status == "published"


def test_a_silent_daemon_on_this_host_loses_its_leases(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    alive = Holder(host_identity(), 1, psutil.Process(1).create_time())
    row_id = _claimed(store, alive, started=False)
    store.heartbeat(f"{alive.host}:1:dead", T0, T0)
    publisher = _publisher(tmp_path, store, FakeClock(T0 + timedelta(minutes=2)))
    publisher.run_due()
    row = store.get(row_id)
    assert row is not None and row.status == "publishing"  # beat 2 minutes ago: alive
    publisher.clock = FakeClock(T0 + timedelta(minutes=6))
    publisher.run_due()
    row = store.get(row_id)
    assert row is not None and row.status == "published"


def test_a_process_of_another_pid_namespace_counts_as_another_host(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    # a container sharing the host's name: its pids mean nothing here
    container = Holder(f"{socket.gethostname()}/pid:[1]", _free_pid(), 1.0)
    row_id = _claimed(store, container, started=False)
    _publisher(tmp_path, store, FakeClock(T0 + timedelta(minutes=1))).run_due()
    row = store.get(row_id)
    assert row is not None and row.status == "publishing"


def test_leases_of_other_hosts_keep_the_lease_rule(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    elsewhere = Holder("another-host.example", _free_pid(), 1.0)
    row_id = _claimed(store, elsewhere, started=True)
    clock = FakeClock(T0 + timedelta(minutes=30))
    publisher = _publisher(tmp_path, store, clock)
    publisher.run_due()
    row = store.get(row_id)
    assert row is not None and row.status == "publishing"
    clock.advance(timedelta(minutes=31))
    publisher.run_due()
    row = store.get(row_id)
    assert row is not None and row.status == "unknown"


def test_a_claim_records_its_holder(store: Store) -> None:
    me = Holder(host_identity(), os.getpid(), psutil.Process().create_time())
    _claimed(store, me, started=False)
    (row,) = store.publications(["publishing"])
    assert (row.claimed_host, row.claimed_pid) == (me.host, me.pid)
    assert row.claimed_process_start == pytest.approx(me.process_start)


# --------------------------------------------------------------------------- 8: one-offs, resolve


def test_a_one_off_from_a_file_outside_content_can_be_retried_by_the_daemon(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    path = write_project(tmp_path, "[]\n")
    elsewhere = tmp_path / "drafts" / "news.md"
    elsewhere.parent.mkdir()
    elsewhere.write_text("---\ntitle: News\n---\nFresh news from the makerspace.\n", "utf-8")
    clock = FakeClock(T0)
    platform.script("alpha", Rejected("try later", platform="fake", account="alpha"))
    project = load_project(path)
    (result,) = publish_now(project, store, str(elsewhere), "alpha", clock=clock)
    assert result.status == "failed"
    (row,) = store.publications()
    assert row.source == str(elsewhere.resolve())
    assert cli_run(path, store, "resolve", str(row.id), "--retry").exit_code == 0
    clock.set(datetime.now(UTC))  # resolve put it due "now"
    outcomes = Daemon(path, store, clock=clock).run_once()
    assert [(o.status, o.error) for o in outcomes] == [("published", None)]
    assert "Fresh news" in platform.calls[-1].text


def _missed(store: Store, count: int) -> None:
    store.add_planned(
        [
            PlannedRow("a", f"o{n}", account, "hello", T0, T0 + timedelta(minutes=1))
            for n in range(count)
            for account in ("alpha", "beta")
        ],
        T0,
    )
    store.expire_missed(T0 + timedelta(hours=1))


def test_resolve_retries_an_hour_of_downtime_in_one_command(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    path = write_project(tmp_path, "[]\n")
    _missed(store, 11)  # 22 rows: 11 occurrences for two accounts
    too_many = cli_run(path, store, "resolve", "--status", "missed", "--retry")
    assert too_many.exit_code == 2 and "--force" in too_many.output
    result = cli_run(path, store, "resolve", "--status", "missed", "--account", "alpha", "--retry")
    assert result.exit_code == 0, result.output
    statuses = {(p.account, p.status) for p in store.publications()}
    assert statuses == {("alpha", "planned"), ("beta", "missed")}
    assert cli_run(path, store, "resolve", "--entry", "a", "--retry").exit_code == 0
    assert {p.status for p in store.publications()} == {"planned"}


def test_resolve_takes_several_ids_and_changes_nothing_when_one_is_wrong(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    path = write_project(tmp_path, "[]\n")
    _missed(store, 1)
    (first, second) = [p.id for p in store.publications()]
    assert cli_run(path, store, "resolve", str(first), "99", "--skip").exit_code == 2
    assert {p.status for p in store.publications()} == {"missed"}
    assert cli_run(path, store, "resolve", str(first), str(second), "--skip").exit_code == 0
    assert {p.status for p in store.publications()} == {"cancelled"}


@pytest.mark.parametrize("url", ["yes", "social.example/@c/1", "ftp://x.example/1", ""])
def test_resolve_published_needs_a_url(
    tmp_path: Path, store: Store, platform: FakePlatform, url: str
) -> None:
    path = write_project(tmp_path, "[]\n")
    _missed(store, 1)
    result = cli_run(path, store, "resolve", "1", "--published", url)
    assert result.exit_code == 2
    assert "--published needs the post's URL" in result.output
    row = store.get(1)
    assert row is not None and row.status == Status.MISSED.value
