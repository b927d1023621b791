"""The approval gate: awaiting-approval until approved, shown, counted, told, missed in time."""

from __future__ import annotations

import json
import logging
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from crosspost.loading.project import load_project
from crosspost.planning.approval import needs_approval
from crosspost.planning.sync import sync_plan
from crosspost.publishing.publisher import Publisher
from crosspost.store import Store
from tests.fakes import FakePlatform, run_in

T0 = datetime(2026, 12, 6, 11, 0, tzinfo=UTC)
DUE = datetime(2026, 12, 6, 12, 0, 30, tzinfo=UTC)

SCHEDULE = """\
timezone: UTC
accounts:
  alpha: {connector: fake}
  beta: {connector: fake}
  team: {connector: fake}
groups:
  press: {members: [beta], approval: required}
notify: {to: [team], on: [approval]}
content:
  - {id: hello, title: Hello, body: Hello.}
  - {id: signed, title: Signed, body: Signed., approved_by: ann, approved_at: 2026-12-01 10:00}
posts:
  - {id: launch, content: hello, to: [alpha], at: 2026-12-06 12:00, approval: required}
  - {id: open, content: hello, to: [alpha], at: 2026-12-06 12:00}
  - {id: press-note, content: hello, to: [press], at: 2026-12-06 12:00}
  - {id: press-free, content: hello, to: [press], at: 2026-12-06 12:00, approval: none}
  - {id: signed, content: signed, to: [alpha], at: 2026-12-06 12:00, approval: required}
"""


def write(base: Path, text: str = SCHEDULE) -> Path:
    path = base / "schedule.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def states(base: Path) -> dict[tuple[str, str], str]:
    rows = json.loads(run_in(base, "status", "--json").stdout)["publications"]
    return {(r["entry"], r["account"]): r["status"] for r in rows if r["entry"] in GATED}


GATED = ("launch", "open", "press-note", "press-free", "signed")


def test_entry_group_and_file_approval_decide_who_waits(
    tmp_path: Path, platform: FakePlatform
) -> None:
    project = load_project(write(tmp_path))
    assert needs_approval(project, "launch", "alpha")
    assert not needs_approval(project, "open", "alpha")
    assert needs_approval(project, "press-note", "beta")  # the group asks
    assert not needs_approval(project, "press-free", "beta")  # the entry opens it
    assert not needs_approval(project, "notify:x", "team")
    everything = write(tmp_path, "approval: required\n" + SCHEDULE)
    assert needs_approval(load_project(everything), "open", "alpha")


def test_unapproved_posts_wait_are_shown_counted_and_told_then_go_out_once_approved(
    tmp_path: Path, platform: FakePlatform
) -> None:
    write(tmp_path)
    with time_machine.travel(T0, tick=False):
        first = run_in(tmp_path, "daemon", "--once")
        check = run_in(tmp_path, "check")
        strict = run_in(tmp_path, "check", "--strict", "--json")
        plan = json.loads(run_in(tmp_path, "plan", "--until", "2h", "--json").stdout)
        overview = run_in(tmp_path, "status")
    assert first.exit_code == 0, first.output
    assert states(tmp_path) == {
        ("launch", "alpha"): "awaiting-approval",
        ("open", "alpha"): "planned",
        ("press-note", "beta"): "awaiting-approval",
        ("press-free", "beta"): "planned",
        ("signed", "alpha"): "planned",
    }
    # the approver is told once, through notify:
    (told,) = [c for c in platform.calls if c.account == "team"]
    assert "hello awaits approval; 2 publications wait for it" in told.text
    assert "crosspost approve hello" in told.text
    assert check.exit_code == 0 and check.stderr == ""
    assert "2 publications await approval (crosspost approve CONTENT):" in check.stdout
    assert "schedule.yaml:13:1: posts.0 (launch → alpha, due 2026-12-06 12:00 UTC): hello" in (
        check.stdout
    )
    assert strict.exit_code == 1
    awaited = json.loads(strict.stdout)["awaiting_approval"]
    assert [(a["entry"], a["account"], a["content"], a["line"]) for a in awaited] == [
        ("launch", "alpha", "hello", 13),
        ("press-note", "beta", "hello", 15),
    ]
    notes = {(p["entry"], p["account"]): p["note"] for p in plan["publications"]}
    assert notes["launch", "alpha"] == "awaits approval: crosspost approve hello"
    assert notes["open", "alpha"] == ""
    assert "awaiting approval (2)" in overview.stdout
    assert overview.exit_code == 0  # waiting for a person is not a failure

    with time_machine.travel(DUE, tick=False):
        due = run_in(tmp_path, "daemon", "--once")
        assert due.exit_code == 1  # due and not sent: said, with the way out
        assert "launch → alpha: not sent yet (awaiting approval: crosspost approve hello" in (
            due.stderr
        )
        approved = run_in(tmp_path, "approve", "hello", "--by", "ann")
        assert approved.exit_code == 0, approved.output
        assert "approved: hello by ann" in approved.stdout
        assert "2 publications no longer await approval" in approved.stdout
        after = run_in(tmp_path, "daemon", "--once")
    assert after.exit_code == 0, after.output
    assert set(states(tmp_path).values()) == {"published"}
    sent = [(c.account, c.text) for c in platform.calls if c.account != "team"]
    assert sorted(sent) == sorted(
        [("alpha", "Hello.")] * 2 + [("alpha", "Signed."), ("beta", "Hello."), ("beta", "Hello.")]
    )


def test_one_publication_is_told_in_the_singular(
    tmp_path: Path, platform: FakePlatform, caplog: pytest.LogCaptureFixture
) -> None:
    one = "{id: launch, content: hello, to: [alpha], at: 2026-12-06 12:00, approval: required}"
    write(tmp_path, SCHEDULE.split("posts:")[0] + f"posts:\n  - {one}\n")
    with time_machine.travel(T0, tick=False):
        with caplog.at_level(logging.INFO, logger="crosspost.publishing.daemon"):
            daemon = run_in(tmp_path, "daemon", "--once")
        check = run_in(tmp_path, "check")
        approved = run_in(tmp_path, "approve", "hello")
    assert daemon.exit_code == 0, daemon.output
    assert "approval: 1 publication now awaits it, 0 approved" in caplog.messages
    (told,) = [c for c in platform.calls if c.account == "team"]
    assert "hello awaits approval; 1 publication waits for it" in told.text
    assert "1 publication awaits approval (crosspost approve CONTENT):" in check.stdout
    assert "1 publication no longer awaits approval" in approved.stdout


def test_an_unapproved_post_follows_its_missed_policy(
    tmp_path: Path, platform: FakePlatform
) -> None:
    write(tmp_path)
    with time_machine.travel(T0, tick=False):
        run_in(tmp_path, "daemon", "--once")
    with time_machine.travel(DUE + timedelta(hours=1), tick=False):  # grace: 1 h
        late = run_in(tmp_path, "daemon", "--once")
        status = run_in(tmp_path, "status", "--status", "missed", "--json")
    assert late.exit_code == 1
    missed = {r["entry"]: r["error"] for r in json.loads(status.stdout)["publications"]}
    assert set(missed) == {"launch", "press-note", "open", "press-free", "signed"}
    assert missed["launch"] == (
        "its content was not approved before its time (and the entry's grace) passed"
    )
    assert status.exit_code == 1  # a miss is never silent


def test_an_edit_after_approval_needs_a_new_one(tmp_path: Path, platform: FakePlatform) -> None:
    path = write(tmp_path)
    with time_machine.travel(T0, tick=False):
        run_in(tmp_path, "daemon", "--once")
        assert run_in(tmp_path, "approve", "hello").exit_code == 0
        assert states(tmp_path)["launch", "alpha"] == "planned"
        path.write_text(SCHEDULE.replace("body: Hello.}", "body: Hello again.}"), "utf-8")
        assert run_in(tmp_path, "daemon", "--once").exit_code == 0  # a new process reads it
        assert states(tmp_path)["launch", "alpha"] == "awaiting-approval"
        again = run_in(tmp_path, "approve", "hello", "--json")
    assert json.loads(again.stdout)["released"] == 2


def test_a_person_may_drop_what_awaits_approval(tmp_path: Path, platform: FakePlatform) -> None:
    write(tmp_path)
    with time_machine.travel(T0, tick=False):
        run_in(tmp_path, "daemon", "--once")
        skipped = run_in(
            tmp_path, "resolve", "--entry", "launch", "--status", "awaiting-approval", "--skip"
        )
        assert skipped.exit_code == 0, skipped.output
        assert states(tmp_path)["launch", "alpha"] == "cancelled"
        run_in(tmp_path, "approve", "hello")
        assert states(tmp_path)["launch", "alpha"] == "cancelled"  # a person's decision stays


def test_the_publisher_checks_again_before_sending(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    """A row planned before its entry needed approval is handed back untried, not sent."""
    text = SCHEDULE.replace("approval: required}\n  - {id: open", "}\n  - {id: open")
    project = load_project(write(tmp_path, text))
    sync_plan(project, store, T0)
    gated = load_project(write(tmp_path))
    outcomes = Publisher(store, gated, clock=lambda: DUE).run_due()
    launch = [o for o in outcomes if o.entry == "launch"]
    assert [(o.status, o.error) for o in launch] == [
        ("awaiting-approval", "awaiting approval: crosspost approve hello")
    ]
    row = store.find("launch", "2026-12-06T12:00", "alpha")
    assert row is not None and (row.status, row.attempts) == ("awaiting-approval", 0)
    assert "launch" not in {c.text for c in platform.calls}


def test_a_one_off_awaits_approval_too(tmp_path: Path, platform: FakePlatform) -> None:
    write(tmp_path, "approval: required\n" + SCHEDULE)
    with time_machine.travel(DUE, tick=False):
        now = run_in(tmp_path, "publish", "hello", "--to", "alpha")
        assert now.exit_code == 1
        assert "awaiting-approval alpha: hello" in now.stdout
        assert run_in(tmp_path, "approve", "hello").exit_code == 0
        sent = run_in(tmp_path, "daemon", "--once")
    assert sent.stdout.count("published publish:hello → alpha") == 1


def test_approve_refuses_unknown_content(tmp_path: Path, platform: FakePlatform) -> None:
    write(tmp_path)
    result = run_in(tmp_path, "approve", "helo")
    assert result.exit_code == 2
    assert 'no content "helo"' in result.stderr and 'did you mean "hello"?' in result.stderr


def test_a_gated_queue_posts_approved_items_only(tmp_path: Path, platform: FakePlatform) -> None:
    text = SCHEDULE.split("posts:")[0] + textwrap.dedent(
        """\
        queues:
          - id: tips
            to: [alpha]
            content: [hello, signed]
            slots: [{times: ["12:00", "13:00"]}]
            approval: required
        """
    )
    write(tmp_path, text)
    with time_machine.travel(T0, tick=False):
        plan = json.loads(run_in(tmp_path, "plan", "--until", "3h", "--json").stdout)
        check = run_in(tmp_path, "check")
    assert [(p["content"], p["note"]) for p in plan["publications"]] == [
        ("signed", "round-robin, first of the pool; passed over hello awaits approval"),
        ("signed", "round-robin after signed; passed over hello awaits approval"),
    ]
    assert "1 of 2 items await approval and are skipped until approved: hello" in check.stderr


def test_check_counts_approvals_given_with_the_command(
    tmp_path: Path, platform: FakePlatform
) -> None:
    """No queue in the schedule: check reads the stored approvals all the same."""
    write(tmp_path)
    with time_machine.travel(T0, tick=False):
        assert run_in(tmp_path, "daemon", "--once").exit_code == 0
        before = run_in(tmp_path, "check")
        assert run_in(tmp_path, "approve", "hello", "--by", "ann").exit_code == 0
        after = run_in(tmp_path, "check", "--strict")
    assert "2 publications await approval" in before.stdout
    assert after.exit_code == 0, after.output
    assert "await approval" not in after.stdout
