"""``crosspost status`` without filters: what matters first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner, Result
from rich.console import Console

from crosspost.cli import cli
from crosspost.cli.status_view import parse_statuses, print_overview, summary_line
from crosspost.status import Status
from crosspost.store import PlannedRow, Store
from crosspost.store.records import Ended, Finish, Sent

NOW = datetime.now(UTC).replace(microsecond=0)


def _store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'x.db'}")


def _run(tmp_path: Path, *args: str) -> Result:
    database = f"sqlite:///{tmp_path / 'x.db'}"
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text("timezone: UTC\n", encoding="utf-8")
    return CliRunner().invoke(cli, ["-s", str(schedule), "--database", database, "status", *args])


def _fill(store: Store) -> None:
    """60 planned in the future, 12 published, 1 failed and 1 missed in the past."""
    rows = [
        PlannedRow(
            "hourly",
            f"h{i:03}",
            "feed",
            "tip",
            NOW + timedelta(hours=i + 1),
            NOW + timedelta(days=9),
        )
        for i in range(60)
    ]
    past = [
        PlannedRow(
            "daily",
            f"d{i:03}",
            "feed",
            "tip",
            NOW - timedelta(days=20 - i),
            NOW + timedelta(days=9),
        )
        for i in range(14)
    ]
    store.add_planned(rows + past, NOW - timedelta(days=30))
    for i, row in enumerate(store.publications([Status.PLANNED], until=NOW)):
        assert row.id is not None and store.claim(row.id, "w", timedelta(minutes=5), NOW)
        outcome: Finish = Sent(str(i), f"https://example.org/{i}", NOW)
        if i == 0:
            outcome = Ended(Status.FAILED, "refused: too long")
        elif i == 1:
            outcome = Ended(Status.MISSED, "")
        assert store.finish(row.id, "w", NOW, outcome)
    store.heartbeat("w", NOW - timedelta(hours=2), NOW - timedelta(days=1))


def test_summary_line_puts_problems_first() -> None:
    line = summary_line({"planned": 30412, "published": 12, "failed": 1, "missed": 6})
    assert line == "1 failed · 6 missed · 30,412 planned · 12 published"
    assert summary_line({}) == "no publications yet"


def test_overview_shows_problems_recent_and_next(tmp_path: Path) -> None:
    store = _store(tmp_path)
    _fill(store)
    console = Console(width=80, record=True)
    problems, _held = print_overview(console, store, NOW, held={"mastodon": "token revoked (401)"})
    text = console.export_text()
    assert [p.status for p in problems] == ["failed", "missed"]
    lines = text.splitlines()
    assert lines[0] == "1 failed · 1 missed · 60 planned · 12 published"
    order = [
        lines.index(t)
        for t in (
            "needs attention (2)",
            "held accounts (1)",
            "last 10 published",
            "next 10 planned",
        )
    ]
    assert order == sorted(order)
    assert "d013" in text and "d003" not in text  # the last 10 published only
    assert "h009" in text and "h010" not in text  # the next 10 only
    assert "token revoked (401)" in text
    assert lines[-1].startswith("daemon not running (last seen ")
    assert max(len(line) for line in lines) <= 80


def test_sections_of_one_state_leave_out_the_status_column(tmp_path: Path) -> None:
    """Their title names the state; its room goes to the URLs and errors. The problems
    section mixes states and keeps it; tsv keeps every column for scripts."""
    store = _store(tmp_path)
    _fill(store)
    console = Console(width=120, record=True)
    print_overview(console, store, NOW)
    lines = console.export_text().splitlines()
    headers = [line.split() for line in lines if line.strip().startswith("id ")]
    assert len(headers) == 3  # needs attention, last published, next planned
    attention, published, planned = headers
    assert "status" in attention
    assert "status" not in published and "status" not in planned
    assert "https://example.org/11" in "\n".join(lines)


def test_status_command_exits_1_on_problems(tmp_path: Path) -> None:
    _fill(_store(tmp_path))
    result = _run(tmp_path)
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("1 failed · 1 missed")
    assert "daemon not running (last seen" in result.stdout


def test_unknown_status_is_bad_input(tmp_path: Path) -> None:
    result = _run(tmp_path, "--status", "faild")
    assert result.exit_code == 2
    assert "--status" in result.output and "did you mean 'failed'" in result.output


def test_parse_statuses() -> None:
    assert parse_statuses(" Failed, unknown ") == ["failed", "unknown"]
    assert parse_statuses("") == []


def test_tsv_has_one_header_and_tab_separated_rows(tmp_path: Path) -> None:
    _fill(_store(tmp_path))
    result = _run(tmp_path, "--status", "published", "--format", "tsv")
    lines = result.stdout.splitlines()
    assert lines[0].split("\t") == ["id", "due (UTC)", "entry", "account", "status", "url / error"]
    assert all(len(line.split("\t")) == 6 for line in lines[1:13])


def test_held_accounts_from_the_store_are_shown_and_exit_1(tmp_path: Path) -> None:
    from crosspost.store.account_state import hold_account

    store = _store(tmp_path)
    hold_account(store, "mastodon", "token revoked (HTTP 401)", "digest", NOW)
    store.close()
    result = _run(tmp_path, "--format", "tsv")
    assert result.exit_code == 1, result.output
    assert "mastodon\tsince " in result.stdout and "token revoked (HTTP 401)" in result.stdout
