"""``crosspost daemon`` as a person sees it: the start banner, Ctrl-C and SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import pytest

from crosspost.cli import daemon_view
from crosspost.cli.daemon import print_outcome
from crosspost.cli.daemon_view import (
    BannerFirst,
    exit_code_for,
    start_banner,
    stopping_message,
)
from crosspost.loading.project import load_project
from crosspost.planning import plan, upcoming
from crosspost.publishing.outcome import Outcome
from crosspost.status import Status
from tests.fakes import copy_example

#: A Tuesday 13:00 UTC: repair-cafe is at 18:00 Europe/Kyiv (16:00 UTC), in 3 h.
TUESDAY = datetime(2026, 12, 1, 13, 0, 30, tzinfo=UTC)


def _banner(folder: Path, *crons: tuple[str, str]) -> str:
    """The start banner of a feed account posting entries ``(id, cron)``, on TUESDAY."""
    posts = "".join(
        f"  - {{id: {id}, content: c, to: feed, cron: '{cron}'}}\n" for id, cron in crons
    )
    schedule = folder / "schedule.yaml"
    schedule.write_text(
        "timezone: Europe/Kyiv\n"
        "accounts:\n  feed: {connector: feed, path: feed.xml}\n"
        "content:\n  - {id: c, body: Hello}\n"
        f"posts:\n{posts}",
        encoding="utf-8",
    )
    return start_banner(load_project(schedule), "schedule.yaml", TUESDAY)


def test_banner_says_what_comes_next(tmp_path: Path) -> None:
    banner = _banner(tmp_path, ("weekly", "0 18 * * 2"), ("daily", "0 9 * * *"))
    assert banner == (
        "crosspost daemon: schedule.yaml; next post: 18:00 Europe/Kyiv (in 3 h), "
        "8 planned in 7 d; Ctrl-C to stop"
    )
    assert "Store(" not in banner and "sqlite" not in banner


def test_banner_stops_counting_past_its_bound_but_still_finds_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(daemon_view, "BANNER_COUNT", 5)
    counted: list[int] = []
    real = plan.occurrences

    def spy(*args: Any) -> Any:
        found = real(*args)
        counted.append(len(found))
        return found

    monkeypatch.setattr(upcoming, "occurrences", spy)
    crons = (("daily", "0 9 * * *"), ("nightly", "0 23 * * *"), ("weekly", "0 18 * * 2"))
    banner = _banner(tmp_path, *crons)
    assert banner == (
        "crosspost daemon: schedule.yaml; next post: 18:00 Europe/Kyiv (in 3 h), "
        "5+ planned in 7 d; Ctrl-C to stop"
    )
    assert counted == [7, 1, 1]  # past the bound, each entry's first occurrence only


def test_banner_says_what_is_due_at_once_first(tmp_path: Path) -> None:
    banner = _banner(tmp_path, ("weekly", "0 18 * * 2"))
    schedule = tmp_path / "schedule.yaml"
    with_overdue = start_banner(load_project(schedule), "schedule.yaml", TUESDAY, due_now=4)
    assert with_overdue == banner.replace("next post:", "4 due now, then next post:")
    empty = tmp_path / "empty" / "schedule.yaml"
    empty.parent.mkdir()
    empty.write_text("timezone: UTC\n", encoding="utf-8")
    only_overdue = start_banner(load_project(empty), "schedule.yaml", TUESDAY, due_now=2)
    assert "; 2 due now; Ctrl-C to stop" in only_overdue


def test_banner_names_the_accounts_whose_mentions_are_streamed(tmp_path: Path) -> None:
    _banner(tmp_path, ("weekly", "0 18 * * 2"))
    project = load_project(tmp_path / "schedule.yaml")
    one = start_banner(project, "schedule.yaml", TUESDAY, streamed=["club"])
    assert one.endswith("; mentions of club read as they come; Ctrl-C to stop")
    two = start_banner(project, "schedule.yaml", TUESDAY, streamed=["a", "b"])
    assert "; mentions of 2 accounts read as they come;" in two


def test_due_now_counts_what_is_due_inside_its_grace(tmp_path: Path) -> None:
    from datetime import timedelta

    from crosspost.store import PlannedRow, Store

    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    hour = timedelta(hours=1)
    rows = [
        PlannedRow("welcome", "1", "feed", "c", TUESDAY - 2 * hour, TUESDAY + hour),  # due
        PlannedRow("old", "1", "feed", "c", TUESDAY - 3 * hour, TUESDAY - hour),  # grace gone
        PlannedRow("later", "1", "feed", "c", TUESDAY + hour, TUESDAY + 2 * hour),  # not yet
    ]
    store.add_planned(rows, TUESDAY - 4 * hour)
    assert daemon_view.due_now(store, TUESDAY) == 1
    store.close()


def test_ctrl_c_while_the_plan_is_written_ahead_exits_130_without_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from crosspost.cli.daemon import _planned_ahead

    class Interrupted:
        def resume(self) -> None:
            raise KeyboardInterrupt

    with pytest.raises(SystemExit) as stopped:
        _planned_ahead(Interrupted(), None, lambda _store, _now: 0)  # type: ignore[arg-type]
    assert stopped.value.code == 130
    assert "Ctrl-C: stopped before the first round" in capsys.readouterr().out


def test_a_plan_that_cannot_be_written_yet_is_left_to_the_first_round() -> None:
    from crosspost.cli.daemon import _planned_ahead

    class Broken:
        def resume(self) -> None:
            raise RuntimeError("database is locked")

    assert _planned_ahead(Broken(), None, lambda _store, _now: 7) == 0  # type: ignore[arg-type]


def test_what_goes_out_while_the_banner_is_made_is_shown_after_it() -> None:
    shown: list[str] = []
    made = threading.Event()

    def banner() -> str:
        made.wait(10)  # an agency's schedule: the round publishes meanwhile
        return "crosspost daemon: banner"

    lines = BannerFirst(lambda outcome: shown.append(f"outcome {outcome}"))
    lines.start(banner, shown.append)
    lines.outcome("a")  # the first round does not wait for the banner
    lines.outcome("b")
    assert shown == []
    made.set()
    deadline = time.monotonic() + 10
    while len(shown) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    lines.outcome("c")
    assert shown == ["crosspost daemon: banner", "outcome a", "outcome b", "outcome c"]
    lines.release()  # a second release (at the stop) shows nothing twice
    assert len(shown) == 4


def test_outcomes_are_shown_without_a_banner_that_failed_or_never_came(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken() -> str:
        raise RuntimeError("a bug")

    shown: list[str] = []
    failed = BannerFirst(shown.append)
    failed.outcome("a")
    failed._say(broken, shown.append)  # what the thread runs, here
    assert shown == ["a"] and "start banner failed" in caplog.text
    stopped = BannerFirst(shown.append)
    stopped.outcome("b")
    stopped.release()  # the daemon stopped before the banner was made
    assert shown == ["a", "b"]


def test_banner_with_nothing_planned(tmp_path: Path) -> None:
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text("timezone: UTC\n", encoding="utf-8")
    banner = start_banner(load_project(schedule), "schedule.yaml", TUESDAY)
    assert "nothing planned in the next 7 d" in banner


def test_stopping_messages_and_exit_codes() -> None:
    assert stopping_message(signal.SIGINT, 1) == "Ctrl-C: finishing 1 post in flight, then stopping"
    assert stopping_message(signal.SIGTERM, 2) == (
        "SIGTERM: finishing 2 posts in flight, then stopping"
    )
    assert stopping_message(signal.SIGINT, 0) == "Ctrl-C: nothing in flight, stopping"
    assert exit_code_for(signal.SIGINT) == 130
    assert exit_code_for(signal.SIGTERM) == 0
    assert exit_code_for(None) == 0


def _started_daemon(tmp_path: Path) -> tuple[subprocess.Popen[str], list[str]]:
    copy_example(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSPOST_")}
    command = [sys.executable, "-m", "crosspost", "daemon", "--tick", "1s"]
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 90  # a loaded 2-core machine starts Python slowly
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if "published welcome" in line or not line:
            break
    return process, lines


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 0)])
def test_signal_stops_the_daemon_with_the_usual_exit_code(
    tmp_path: Path, signum: int, code: int
) -> None:
    process, lines = _started_daemon(tmp_path)
    try:
        # the example's welcome and article, past their time, go out at once (2 targets)
        assert any("4 due now, then next post:" in line for line in lines), lines
        process.send_signal(signum)
        rest, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == code, "".join(lines) + rest
    name = "Ctrl-C" if signum == signal.SIGINT else "SIGTERM"
    assert f"{name}: " in rest and "stopping" in rest
    assert "Traceback" not in rest


@pytest.mark.slow
def test_a_signal_sent_twice_stops_once_without_a_traceback(tmp_path: Path) -> None:
    # ``timeout`` signals the process and its group: two SIGTERMs arrive at once
    process, lines = _started_daemon(tmp_path)
    try:
        process.send_signal(signal.SIGTERM)
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, "".join(lines) + rest
    assert rest.count("SIGTERM: ") == 1
    assert "Traceback" not in rest and "reentrant" not in rest


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [([], {}, 8), (["--workers", "32"], {}, 32), ([], {"CROSSPOST_WORKERS": "64"}, 64)],
)
def test_workers_sets_how_many_accounts_publish_at_once(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    env: dict[str, str],
    expected: int,
) -> None:
    from click.testing import CliRunner

    from crosspost.cli import cli
    from crosspost.publishing import daemon as daemon_module
    from crosspost.publishing.dispatch import DEFAULT_WORKERS

    made: list[int] = []
    real = daemon_module.Daemon

    def spy(*a: Any, **kw: Any) -> Any:
        made.append(kw["workers"])
        return real(*a, **kw)

    monkeypatch.setattr(daemon_module, "Daemon", spy)
    copy_example(tmp_path)
    command = ["-s", str(tmp_path / "schedule.yaml"), "daemon", "--once", *args]
    result = CliRunner().invoke(cli, command, env=env)
    assert result.exit_code in (0, 1), result.output
    assert made == [expected], result.output
    assert f"[default: {DEFAULT_WORKERS}]" in CliRunner().invoke(cli, ["daemon", "--help"]).output


@pytest.mark.parametrize("value", ["0", "257", "many"])
def test_workers_out_of_range_is_bad_input(tmp_path: Path, value: str) -> None:
    from click.testing import CliRunner

    from crosspost.cli import cli

    copy_example(tmp_path)
    command = ["-s", str(tmp_path / "schedule.yaml"), "daemon", "--workers", value]
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 2
    assert "--workers" in result.output


def _outcome(status: Status, url: str | None, error: str | None = None) -> Outcome:
    return Outcome(1, "launch", "mastodon", status, url=url, error=error)


def test_an_outcome_is_one_line_with_its_status_in_colour_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)  # stdout is a terminal
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    print_outcome(_outcome(Status.PUBLISHED, "https://social.example/@club/1"))
    line = capsys.readouterr().out
    assert line.endswith(f"{click.style('published', fg='green')} launch → mastodon "
                         "https://social.example/@club/1\n")  # fmt: skip
    monkeypatch.setenv("NO_COLOR", "1")
    print_outcome(_outcome(Status.PUBLISHED, "https://social.example/@club/1"))
    assert "\x1b" not in capsys.readouterr().out


def test_an_outcome_from_a_hostile_platform_cannot_drive_the_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The URL and the error come from the platform's answer: an escape sequence in them
    (one that clears the screen, here) is dropped, and brackets are text, not markup."""
    hostile = _outcome(Status.FAILED, "https://x.example/[bold]\x1b[2J", "refused\x1b]0;pwned\x07")
    print_outcome(hostile)
    shown = capsys.readouterr().out
    assert "\x1b" not in shown and "\x07" not in shown
    assert "https://x.example/[bold][2J" in shown
    assert shown.splitlines()[1].strip() == "refused]0;pwned"
