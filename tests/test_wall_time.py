"""``check`` warns of a one-off at a wall time the clocks skip or show twice (DST)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from crosspost.cli import cli
from crosspost.loading.project_checks import wall_time_warnings
from crosspost.loading.schedule import read_schedule

NOW = datetime(2027, 1, 1, tzinfo=UTC)


def _warnings(tmp_path: Path, zone: str, at: str, now: datetime = NOW) -> list[str]:
    path = tmp_path / "schedule.yaml"
    path.write_text(
        f"timezone: {zone}\n"
        "accounts:\n  archive: {connector: folder, path: out}\n"
        "content:\n  - {id: hello, body: Hello}\n"
        f"posts:\n  - {{id: a, content: hello, to: [archive], at: '{at}'}}\n",
        encoding="utf-8",
    )
    schedule, root = read_schedule(path)
    return [
        f"{p.line}:{p.column}: {p.message}" for p in wall_time_warnings(schedule, root, path, now)
    ]


@pytest.mark.parametrize(
    ("zone", "at", "told"),
    [
        (
            "Europe/Kyiv",
            "2027-03-28 03:30",
            "2027-03-28 03:30 does not exist in Europe/Kyiv (the clocks go from EET to EEST "
            "that night): it goes out at 04:30 EEST",
        ),
        (
            "America/New_York",
            "2027-11-07 01:30",
            "2027-11-07 01:30 happens twice in America/New_York (in EDT, then in EST after the "
            "clocks go back): it goes out once, at 01:30 EDT",
        ),
    ],
)
def test_a_skipped_or_repeated_time_is_told_with_when_it_goes_out(
    tmp_path: Path, zone: str, at: str, told: str
) -> None:
    assert _warnings(tmp_path, zone, at) == [f"7:48: posts.0.at: {told}"]


@pytest.mark.parametrize(
    ("zone", "at"),
    [
        ("Europe/Kyiv", "2027-03-28 02:59"),  # the minute before the gap
        ("Europe/Kyiv", "2027-03-28 04:00"),  # the first one after it
        ("UTC", "2027-03-28 03:30"),  # no DST at all
        ("Europe/Kyiv", "2027-10-31 04:00"),  # just after the repeated hour
    ],
)
def test_plain_times_are_not_warned_of(tmp_path: Path, zone: str, at: str) -> None:
    assert _warnings(tmp_path, zone, at) == []


def test_a_past_one_off_is_not_warned_of(tmp_path: Path) -> None:
    assert _warnings(tmp_path, "Europe/Kyiv", "2026-03-29 03:30") == []


def test_check_shows_it_as_a_warning_and_strict_fails(tmp_path: Path) -> None:
    _warnings(tmp_path, "Europe/Kyiv", "2099-03-29 03:30")
    schedule = str(tmp_path / "schedule.yaml")
    database = f"sqlite:///{tmp_path / 'x.db'}"
    result = CliRunner().invoke(cli, ["-s", schedule, "--database", database, "check"])
    assert result.exit_code == 0, result.output
    assert "warning: " in result.output and "does not exist in Europe/Kyiv" in result.output
    strict = CliRunner().invoke(cli, ["-s", schedule, "--database", database, "check", "--strict"])
    assert strict.exit_code == 1
