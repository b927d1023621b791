"""End to end on a copy of the repository's example: feed and folder, exactly once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from click.testing import CliRunner, Result

from crosspost.cli import cli
from tests.fakes import copy_example, feed_entries

#: A Tuesday: repair-cafe (18:00 Europe/Kyiv = 16:00 UTC) and open-hours (every minute)
#: both fall due at 16:00 UTC.
BEFORE = datetime(2026, 12, 1, 15, 59, 30, tzinfo=UTC)
AT_FOUR = datetime(2026, 12, 1, 16, 0, 30, tzinfo=UTC)
WELCOME = "Welcome to the makerspace feed"
ARTICLE = "How we brought the laser cutter back to life"  # content/laser-cutter.md


def run(base: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["-s", str(base / "schedule.yaml"), "--database", f"sqlite:///{base}/x.db", *args]
    )


def published_lines(result: Result) -> list[str]:
    return sorted(
        " ".join(line.split()[1:4]) for line in result.stdout.splitlines() if " published " in line
    )


def test_daemon_once_publishes_each_due_post_exactly_once(tmp_path: Path) -> None:
    copy_example(tmp_path)
    feed, folder = tmp_path / "public" / "feed.xml", tmp_path / "public" / "posts"
    with time_machine.travel(BEFORE, tick=False):
        first = run(tmp_path, "daemon", "--once")
    assert first.exit_code == 0, first.output + first.stderr
    assert published_lines(first) == [
        "published laser-article →",
        "published laser-article →",
        "published welcome →",
        "published welcome →",
    ]
    assert sorted(e["title"] for e in feed_entries(feed)) == [ARTICLE, WELCOME]

    with time_machine.travel(AT_FOUR, tick=False):
        second = run(tmp_path, "daemon", "--once")
        assert second.exit_code == 0, second.output + second.stderr
        assert "welcome" not in second.stdout and "laser-article" not in second.stdout
        assert second.stdout.count(" published ") == 4
        third = run(tmp_path, "daemon", "--once")
        assert third.exit_code == 0
        assert third.stdout.strip() == "nothing is due"
        status = run(tmp_path, "status", "--json")
    assert status.exit_code == 0, status.output + status.stderr

    entries = feed_entries(feed)
    assert sorted(e["title"] for e in entries) == [
        ARTICLE,
        "Open hours",
        "Repair café on Wednesday",
        WELCOME,
    ]
    assert len({e["id"] for e in entries}) == 4
    assert len(list(folder.glob("*.md"))) == 4

    rows = json.loads(status.stdout)["publications"]
    done = [r for r in rows if r["status"] == "published"]
    assert sorted((r["entry"], r["account"]) for r in done) == sorted(
        (entry, account)
        for entry in ("welcome", "laser-article", "open-hours", "repair-cafe")
        for account in ("website-feed", "archive")
    )
    feed_ids = {e["id"] for e in entries}
    assert {r["remote_id"] for r in done if r["account"] == "website-feed"} == feed_ids
    assert {r["remote_id"] for r in done if r["account"] == "archive"} == {
        p.name for p in folder.glob("*.md")
    }
    assert all(r["status"] == "planned" for r in rows if r not in done)
    assert json.loads(status.stdout)["daemon"]["alive_at"] is not None


def test_status_agrees_after_a_restart_an_hour_later(tmp_path: Path) -> None:
    """open-hours has ``missed: skip``: after downtime only the next one goes out, no burst."""
    copy_example(tmp_path)
    with time_machine.travel(BEFORE, tick=False):
        assert run(tmp_path, "daemon", "--once").exit_code == 0
    later = datetime(2026, 12, 1, 17, 0, 30, tzinfo=UTC)
    with time_machine.travel(later, tick=False):
        result = run(tmp_path, "daemon", "--once")
        # the hour of every-minute posts is recorded missed (exit 1), one goes out
        assert result.exit_code == 1
        status = json.loads(run(tmp_path, "status", "--json").stdout)["publications"]
    opened = [r for r in status if r["entry"] == "open-hours" and r["status"] == "published"]
    # only what is within the skip tolerance (2 min) of now goes out: no burst of 60
    assert sorted(r["occurrence"] for r in opened if r["account"] == "archive") == [
        "2026-12-01T16:59:00Z",
        "2026-12-01T17:00:00Z",
    ]
    missed = [r for r in status if r["status"] == "missed"]
    assert missed and all(r["entry"] in ("open-hours", "repair-cafe") for r in missed)
    # welcome, the article, 16:59 and 17:00
    assert len(feed_entries(tmp_path / "public" / "feed.xml")) == 4


@pytest.mark.slow
def test_the_installed_console_script_runs_the_daemon_once(tmp_path: Path) -> None:
    copy_example(tmp_path)
    script = Path(sys.executable).parent / "crosspost"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "crosspost"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSPOST_")}
    done = subprocess.run(
        [*command, "daemon", "--once"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "published welcome → website-feed" in done.stdout
    assert "published welcome → archive" in done.stdout
    assert (tmp_path / "crosspost.db").is_file()  # the embedded default, next to the schedule
    titles = [e["title"] for e in feed_entries(tmp_path / "public" / "feed.xml")]
    # an every-minute post falls due too when the run crosses a minute boundary (slow machine)
    assert titles.count(WELCOME) == 1 and titles.count(ARTICLE) == 1
    assert set(titles) <= {WELCOME, ARTICLE, "Open hours"}


def test_the_example_event_is_announced_a_week_before_and_in_its_calendar(
    tmp_path: Path,
) -> None:
    copy_example(tmp_path)
    week_before = datetime(2027, 5, 8, 8, 0, 30, tzinfo=UTC)  # 11:00 in Kyiv (UTC+3)
    with time_machine.travel(week_before, tick=False):
        result = run(tmp_path, "daemon", "--once")
        again = run(tmp_path, "daemon", "--once")
    assert result.exit_code == 0, result.output + result.stderr
    assert "published event:open-day:-7d → website-feed" in result.stdout
    assert "published event:open-day:-7d → archive" in result.stdout
    assert "event:open-day" not in again.stdout  # once
    (announcement,) = [
        e for e in feed_entries(tmp_path / "public" / "feed.xml") if e["title"] == "Spring open day"
    ]
    assert announcement["content"].startswith("Spring open day: 7 days to go.")
    calendar = (tmp_path / "public" / "events.ics").read_text(encoding="utf-8")
    assert "UID:open-day@crosspost.invalid" in calendar  # written by the daemon
    assert "DTSTART;TZID=Europe/Kyiv:20270515T110000" in calendar


def test_the_example_queue_posts_a_tip_on_monday_morning(tmp_path: Path) -> None:
    copy_example(tmp_path)
    before = datetime(2026, 12, 7, 7, 59, tzinfo=UTC)
    monday = datetime(2026, 12, 7, 8, 0, 30, tzinfo=UTC)  # 10:00 in Kyiv
    with time_machine.travel(before, tick=False):
        assert run(tmp_path, "daemon", "--once").exit_code == 0
        shown = run(tmp_path, "plan", "--until", "1h", "--entry", "queue:tips", "--json")
        plan = json.loads(shown.stdout)
    expected = {
        p["account"]: p["content"] for p in plan["publications"] if p["entry"] == "queue:tips"
    }
    assert expected == {"website-feed": "blades", "archive": "blades"}
    with time_machine.travel(monday, tick=False):
        result = run(tmp_path, "daemon", "--once")
    assert result.exit_code == 0, result.output + result.stderr
    assert "published queue:tips → website-feed" in result.stdout
    titles = [e["title"] for e in feed_entries(tmp_path / "public" / "feed.xml")]
    assert titles.count("Tip: a sharp blade is a safe blade") == 1


def test_the_example_gated_entry_waits_for_its_approval(tmp_path: Path) -> None:
    copy_example(tmp_path)
    before = datetime(2027, 8, 31, 9, 0, tzinfo=UTC)
    due = datetime(2027, 9, 1, 7, 0, 30, tzinfo=UTC)  # 10:00 in Kyiv (summer time)
    with time_machine.travel(before, tick=False):
        run(tmp_path, "daemon", "--once")  # the spring event's announcements are long past
        status = json.loads(run(tmp_path, "status", "--json").stdout)["publications"]
        waiting = {r["account"] for r in status if r["status"] == "awaiting-approval"}
        assert waiting == {"website-feed", "archive"}
        approved = run(tmp_path, "approve", "programme", "--by", "editor")
        assert "2 publications no longer await approval" in approved.stdout
    with time_machine.travel(due, tick=False):
        result = run(tmp_path, "daemon", "--once")
    assert "published autumn-programme → website-feed" in result.stdout
    titles = [e["title"] for e in feed_entries(tmp_path / "public" / "feed.xml")]
    assert titles.count("Our autumn programme") == 1
