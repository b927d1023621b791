"""``crosspost status``: the JSON shape; exit 1 when something failed, was missed or is unknown."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from crosspost.cli import cli
from crosspost.status import Status
from crosspost.store import Ended, Finish, PlannedRow, Sent, Store
from tests.fakes import run_in

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
KEYS = {"entry", "occurrence", "account", "status", "due_at", "remote_id", "url", "error"}


@pytest.fixture
def base(tmp_path: Path) -> Path:
    (tmp_path / "schedule.yaml").write_text("timezone: UTC\n", encoding="utf-8")
    return tmp_path


def run(base: Path, *args: str) -> Result:
    return run_in(base, "status", *args)


def record(
    base: Path, account: str, status: str, remote_id: str = "", url: str = "", error: str = ""
) -> None:
    """One publication of entry ``launch`` for ``account``, claimed and finished as ``status``."""
    store = Store(f"sqlite:///{base}/x.db")
    try:
        store.add_planned(
            [
                PlannedRow(
                    "launch", "2026-03-01T12:00", account, "hello", T0, T0 + timedelta(hours=1)
                )
            ],
            T0,
        )
        if status != "planned":
            (row,) = store.claim_due(
                T0,
                "w",
                timedelta(minutes=5),
                skip_accounts=[p.account for p in store.publications() if p.account != account],
            )
            assert row.id is not None
            outcome: Finish = (
                Sent(remote_id, url or None, T0)
                if status == "published"
                else Ended(Status(status), error)  # type: ignore[arg-type]
            )
            assert store.finish(row.id, "w", T0, outcome)
        store.heartbeat("w", T0, T0)
    finally:
        store.close()


def test_status_json_shape(base: Path) -> None:
    record(base, "alpha", "published", remote_id="109", url="https://social.example/@a/109")
    record(base, "beta", "planned")
    result = run(base, "--json")
    assert result.exit_code == 0, result.output + result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"publications", "daemon", "held_accounts", "failing_feeds"}
    assert isinstance(data["daemon"], dict)
    assert datetime.fromisoformat(data["daemon"]["alive_at"]) == T0
    first, second = data["publications"]
    assert KEYS <= set(first) and KEYS <= set(second)
    assert {k: first[k] for k in KEYS} == {
        "entry": "launch",
        "occurrence": "2026-03-01T12:00",
        "account": "alpha",
        "status": "published",
        "due_at": first["due_at"],
        "remote_id": "109",
        "url": "https://social.example/@a/109",
        "error": None,
    }
    assert datetime.fromisoformat(first["due_at"]) == T0  # UTC, with its offset
    assert (second["account"], second["status"], second["remote_id"]) == ("beta", "planned", None)


@pytest.mark.parametrize("status", ["failed", "missed", "unknown"])
def test_exit_1_when_something_needs_attention(base: Path, status: str) -> None:
    record(base, "alpha", "published", remote_id="1")
    record(base, "beta", status, error="fake/beta: token revoked (HTTP 401)")
    result = run(base, "--json")
    assert result.exit_code == 1
    rows = {p["account"]: p for p in json.loads(result.stdout)["publications"]}
    assert rows["beta"]["status"] == status
    assert rows["beta"]["error"] == "fake/beta: token revoked (HTTP 401)"
    table = run(base)
    assert table.exit_code == 1
    assert f"1 {status} · 1 published" in table.stdout  # the summary, problems first
    tsv = run(base, "--format", "tsv")
    assert f"\t{status}\tfake/beta: token revoked (HTTP 401)" in tsv.stdout


EMPTY = {
    "publications": [],
    "daemon": {
        "ok": False,
        "alive_at": None,
        "stopped_at": None,
        "age_seconds": None,
        "max_age_seconds": 120.0,
    },
    "held_accounts": [],
    "failing_feeds": [],
}


def test_empty_store_is_ok(base: Path) -> None:
    Store(f"sqlite:///{base}/x.db").close()
    result = run(base, "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == EMPTY
    plain = run(base)
    assert plain.exit_code == 0
    assert "daemon never ran against this database" in plain.stdout


@pytest.mark.parametrize("args", [[], ["--status", "failed"], ["--all", "--format", "tsv"]])
def test_no_database_yet_says_so_and_creates_none(base: Path, args: list[str]) -> None:
    result = run(base, *args)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        f"nothing planned or published yet: no database at {base / 'x.db'}\n"
    )
    assert "crosspost daemon" in result.stdout and "crosspost publish" in result.stdout
    assert not (base / "x.db").exists()


def test_no_database_yet_prints_the_json_of_an_empty_one(base: Path) -> None:
    result = run(base, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == EMPTY
    assert not (base / "x.db").exists()


def test_the_default_database_is_not_created_either(base: Path) -> None:
    result = CliRunner().invoke(cli, ["-s", str(base / "schedule.yaml"), "status"])
    assert result.exit_code == 0, result.output
    assert "no database at" in result.stdout
    assert not (base / "crosspost.db").exists()


def test_filters(base: Path) -> None:
    record(base, "alpha", "published", remote_id="1")
    record(base, "beta", "failed", error="refused")
    result = run(base, "--json", "--status", "published")
    assert result.exit_code == 0  # the failed row is filtered out
    assert [p["account"] for p in json.loads(result.stdout)["publications"]] == ["alpha"]
    result = run(base, "--json", "--account", "beta")
    assert result.exit_code == 1
    assert [p["account"] for p in json.loads(result.stdout)["publications"]] == ["beta"]


def test_a_long_url_goes_under_the_table_on_a_narrow_terminal(base: Path) -> None:
    """At 80 columns (not a terminal) a URL folded into a strip of many lines; it is
    printed whole below the table, after its row's id."""
    url = "https://social.example/@makerspace/" + "1" * 60
    record(base, "mastodon", "published", remote_id="1", url=url)
    lines = run(base).stdout.splitlines()
    assert f"  1  {url}" in lines
    header = next(line for line in lines if "due (UTC)" in line)
    assert "url / error" not in header


def test_a_wide_terminal_keeps_the_url_in_its_column() -> None:
    from rich.console import Console

    from crosspost.cli.tables import print_table

    url = "https://social.example/@makerspace/" + "1" * 60
    rows = [["1", "2026-03-01 12:00", "launch", "mastodon", url], ["2", "", "b", "x", ""]]
    columns = ["id", "due", "entry", "account", "url / error"]
    for width, under in ((200, False), (80, True)):
        console = Console(width=width, record=True, file=io.StringIO())
        print_table(console, columns, rows, wide=["url / error"], below="url / error")
        lines = console.export_text().splitlines()
        assert (f"  1  {url}" in lines) is under
        assert any(line.rstrip().endswith(url) for line in lines)
        assert not any(line.strip() == "2" for line in lines)  # no line for an empty value
    empty = Console(width=80, record=True, file=io.StringIO())
    print_table(empty, columns, [], wide=["url / error"], below="url / error")
    shown = empty.export_text()  # no rows: the header, without the column no row fills
    assert "account" in shown and "url / error" not in shown
