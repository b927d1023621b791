"""``crosspost plan``: filters, "first N of M", the entry column, formats for scripts."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from crosspost.cli import output
from crosspost.cli.plan_view import summary


def test_summary_says_when_the_limit_cut_the_plan() -> None:
    assert (
        summary(200, 30412, "7d") == "first 200 of 30,412 publications in the next 7d (see --limit)"
    )
    assert summary(12, 12, "7d") == "12 publications in the next 7d"
    assert summary(1, 1, "7d") == "1 publication in the next 7d"
    assert summary(0, 0, "7d") == "nothing planned in the next 7d"


def test_limit_reports_the_total(example_project: Path, run_cli: Callable[..., Result]) -> None:
    result = run_cli(example_project, "plan", "--until", "1d", "--limit", "5")
    assert result.exit_code == 0, result.output
    # `open-hours` every minute to two accounts: 2,880 in a day, plus the weekly entry
    assert "first 5 of 2,8" in result.stdout
    data = json.loads(
        run_cli(example_project, "plan", "--until", "1d", "--limit", "5", "--json").stdout
    )
    assert len(data["publications"]) == 5 and data["total"] >= 2880


def test_filters_by_entry_account_and_content(
    example_project: Path, run_cli: Callable[..., Result]
) -> None:
    args = ("plan", "--until", "8d", "--json", "--limit", "0")
    by_entry = json.loads(run_cli(example_project, *args, "--entry", "repair-cafe").stdout)
    publications = by_entry["publications"]
    assert {p["entry"] for p in publications} == {"repair-cafe"}
    # once a week, to two accounts: 8 days hold one Tuesday evening or, from a Monday
    # evening on, two of them
    weeks = {p["due_at"] for p in publications}
    assert len(weeks) in (1, 2)
    assert by_entry["total"] == len(publications) == 2 * len(weeks)
    assert all(
        sorted(p["account"] for p in publications if p["due_at"] == week)
        == ["archive", "website-feed"]
        for week in weeks
    )
    by_account = json.loads(
        run_cli(example_project, *args, "--entry", "repair-cafe", "--account", "archive").stdout
    )
    assert [p["account"] for p in by_account["publications"]] == ["archive"] * len(weeks)
    by_content = json.loads(run_cli(example_project, *args, "--content", "repair-cafe").stdout)
    assert {p["content"] for p in by_content["publications"]} == {"repair-cafe"}


def test_unknown_filter_name_is_bad_input_with_a_suggestion(
    example_project: Path, run_cli: Callable[..., Result]
) -> None:
    result = run_cli(example_project, "plan", "--entry", "repair-cafee")
    assert result.exit_code == 2
    assert "--entry" in result.output and "did you mean 'repair-cafe'?" in result.output


def test_entry_column_and_tsv(example_project: Path, run_cli: Callable[..., Result]) -> None:
    result = run_cli(example_project, "plan", "--until", "3m", "--format", "tsv")
    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.splitlines()
    assert header.split("\t") == ["local time", "UTC", "entry", "account", "content", "length"]
    assert rows and all(len(r.split("\t")) == 6 for r in rows)
    assert "open-hours" in {r.split("\t")[2] for r in rows}


@pytest.mark.parametrize("width", [80, 120])
def test_times_in_one_zone_are_headed_by_it_and_utc_needs_the_room(
    example_project: Path,
    run_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
    width: int,
) -> None:
    monkeypatch.setattr(output.out, "_width", width)
    result = run_cli(example_project, "plan", "--until", "3m")
    assert result.exit_code == 0, result.output
    header = next(line for line in result.stdout.splitlines() if "entry" in line)
    assert header.split()[0] == "Europe/Kyiv"  # the example's zone, said once
    assert ("UTC" in header.split()) is (width >= 100)
    rows = [line for line in result.stdout.splitlines() if "open-hours" in line]
    assert rows and all("Europe/Kyiv" not in row for row in rows)
    assert all(row.split()[1].count(":") == 1 for row in rows)  # 2026-12-07 01:54, whole


def test_an_empty_plan_says_so_without_an_empty_table(
    example_project: Path, run_cli: Callable[..., Result]
) -> None:
    result = run_cli(example_project, "plan", "--until", "1d", "--entry", "welcome")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("nothing planned in the next 1d; plan sha256 ")
    tsv = run_cli(example_project, "plan", "--until", "1d", "--entry", "welcome", "--format", "tsv")
    assert tsv.output.splitlines()[0].startswith("local time\t")  # scripts still get the header


def test_plan_creates_no_database(example_project: Path, run_cli: Callable[..., Result]) -> None:
    result = run_cli(example_project, "plan", "--until", "1d", "--entry", "welcome")
    assert result.exit_code == 0, result.output
    assert not (example_project.parent / "x.db").exists()  # named, but not there yet


def test_a_unit_every_row_shares_is_named_once_in_the_header(
    write_schedule: Callable[..., Path],
    run_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At 80 columns ``241/100000 graphemes`` wrapped every row onto two lines."""
    accounts = "  archive: {connector: folder, path: out}\n"
    social = (
        "  social: {connector: mastodon, instance: 'https://social.example', "
        "access_token: '${TOKEN}'}\n"
    )
    monkeypatch.setenv("TOKEN", "a-token")
    for extra, shared in (("", True), (social, False)):
        schedule = write_schedule(
            "timezone: UTC\naccounts:\n" + accounts + extra
            + "content:\n  - {id: hello, body: Hello there}\n"
            + "posts:\n  - {id: a, content: hello, to: [archive"
            + (", social" if extra else "") + "], every: 1h}\n"
        )  # fmt: skip
        table = run_cli(schedule, "plan", "--until", "2h").stdout
        assert ("length (graphemes)" in table) is shared
        assert ("graphemes" in table.split("\n", 3)[3]) is not shared  # in the rows
        tsv = run_cli(schedule, "plan", "--until", "2h", "--format", "tsv")
        assert "graphemes" in tsv.stdout.splitlines()[1]  # scripts keep it in each cell
