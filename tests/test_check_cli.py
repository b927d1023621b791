"""`crosspost check` / `plan` on broken and good schedules: exit codes and file:line messages."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner, Result

from crosspost.cli import cli
from tests.conftest import SCHEDULES, write_file

#: fixture → (line, column, field, words the message must contain)
BROKEN = {
    "yaml_syntax": (6, 11, None, ["YAML syntax", "quoted scalar"]),
    "unknown_account": (
        10,
        10,
        "posts.0.to",
        ['unknown account or group "archiv"', 'did you mean "archive"?'],
    ),
    "unknown_field": (12, 15, "posts.0.tiemzone", ["unknown field", 'did you mean "timezone"?']),
    "unknown_setting": (5, 10, "accounts.archive.pth", ["unknown field", 'did you mean "path"?']),
    "bad_cron": (11, 11, "posts.0.cron", ["25", "maximum"]),
    "bad_timezone": (
        12,
        15,
        "posts.0.timezone",
        ['unknown time zone "Europe/Kyyiv"', 'did you mean "Europe/Kyiv"?'],
    ),
    "two_triggers": (8, 5, "posts.0", ["needs exactly one of at, cron, every", "found: at, cron"]),
    "literal_secret": (
        6,
        19,
        "accounts.mastodon.access_token",
        ["secrets go in the environment", "${"],
    ),
    "missing_env": (
        6,
        19,
        "accounts.mastodon.access_token",
        ["CROSSPOST_TEST_UNSET_TOKEN", "is not set"],
    ),
    "unknown_connector": (
        4,
        16,
        "accounts.social.connector",
        ['No connector named "mastodn"', 'did you mean "mastodon"?'],
    ),
    "duplicate_post_id": (12, 9, "posts.1.id", ['"hi" is used twice']),
    "unknown_content": (
        9,
        14,
        "posts.0.content",
        ['unknown content "helo"', 'did you mean "hello"?'],
    ),
    "bad_duration": (11, 12, "posts.0.every", ["'10 minutes' is not a duration"]),
}


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from ``tmp_path`` so that messages say ``schedule.yaml:…``."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CROSSPOST_TEST_UNSET_TOKEN", raising=False)
    monkeypatch.delenv("CROSSPOST_DATABASE_URL", raising=False)
    return tmp_path


def _broken(tmp_path: Path, name: str) -> Path:
    target = tmp_path / "schedule.yaml"
    shutil.copy(SCHEDULES / f"{name}.yaml", target)
    return target


def test_every_error_kind_has_a_fixture() -> None:
    assert {p.stem for p in SCHEDULES.glob("*.yaml")} == set(BROKEN)


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_schedule_exits_2_with_file_line_column_field(
    name: str, in_tmp: Path, run_cli: Callable[..., Result]
) -> None:
    line, column, field, words = BROKEN[name]
    result = run_cli(_broken(in_tmp, name), "check")
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    prefix = f"schedule.yaml:{line}:{column}: " + (f"{field}: " if field else "")
    matching = [text for text in lines if text.startswith(prefix)]
    assert matching, f"no line starting with {prefix!r} in:\n{result.stderr}"
    for word in words:
        assert word in matching[0]
    assert result.stdout == ""


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_schedule_check_json(
    name: str, in_tmp: Path, run_cli: Callable[..., Result]
) -> None:
    line, column, field, _ = BROKEN[name]
    result = run_cli(_broken(in_tmp, name), "check", "--json")
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert {"file": "schedule.yaml", "line": line, "column": column} in [
        {k: p[k] for k in ("file", "line", "column")} for p in data["problems"]
    ]
    for problem in data["problems"]:
        assert set(problem) == {"file", "line", "column", "message"}
        if field:
            assert any(p["message"].startswith(f"{field}: ") for p in data["problems"])


def test_literal_secret_is_not_echoed(in_tmp: Path, run_cli: Callable[..., Result]) -> None:
    result = run_cli(_broken(in_tmp, "literal_secret"), "check")
    assert result.exit_code == 2
    assert "abc123-literal-token" not in result.output


def test_plan_on_broken_schedule_exits_2(in_tmp: Path, run_cli: Callable[..., Result]) -> None:
    result = run_cli(_broken(in_tmp, "unknown_account"), "plan")
    assert result.exit_code == 2
    assert "schedule.yaml:10:10: posts.0.to: " in result.stderr


def test_several_problems_are_all_reported(
    write_schedule: Callable[..., Path], in_tmp: Path, run_cli: Callable[..., Result]
) -> None:
    schedule = write_schedule("""
        timezone: UTC
        accounts:
          archive: {connector: folder, path: out}
        content:
          - id: hello
            body: Hello
        posts:
          - id: a
            content: nope
            to: [archive]
            at: 2030-01-01 10:00
          - id: b
            content: hello
            to: [nobody]
            cron: "0 9 * *"
        """)
    result = run_cli(schedule, "check")
    assert result.exit_code == 2
    assert 'schedule.yaml:9:14: posts.0.content: unknown content "nope"' in result.stderr
    assert 'schedule.yaml:14:10: posts.1.to: unknown account or group "nobody"' in result.stderr
    assert 'schedule.yaml:15:11: posts.1.cron: cron "0 9 * *" has 4 fields' in result.stderr
    planned = run_cli(schedule, "plan")
    assert "Error: 3 problems in the input; nothing was changed." in planned.stderr


def test_a_refused_entry_does_not_hide_the_other_entries_problems(
    write_schedule: Callable[..., Path], in_tmp: Path, run_cli: Callable[..., Result]
) -> None:
    """One ``check`` tells every problem: before, an entry's field error (``every: 0m``)
    hid the checks that need valid entries (unknown content, accounts, cron) until fixed."""
    schedule = write_schedule("""
        timezone: UTC
        accounts:
          archive: {connector: folder, path: out}
        content:
          - id: hello
            body: Hello
        posts:
          - id: a
            content: hello
            to: [archive]
            every: 0m
          - id: b
            content: nope
            to: [nobody]
            at: 2030-01-01 10:00
          - id: c
            content: hello
            to: [archive]
            cron: "61 9 * * *"
          - id: b
            content: hello
            to: [archive]
            at: 2030-01-01 10:00
        """)
    result = run_cli(schedule, "check")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert any(line.startswith("schedule.yaml:11:") and "posts.0.every" in line for line in lines)
    assert 'schedule.yaml:13:14: posts.1.content: unknown content "nope"' in result.stderr
    assert 'schedule.yaml:14:10: posts.1.to: unknown account or group "nobody"' in result.stderr
    assert 'posts.2.cron: cron "61 9 * * *": minute "61"' in result.stderr
    assert 'posts.3.id: "b" is used twice' in result.stderr
    data = json.loads(run_cli(schedule, "check", "--json").stdout)
    assert len(data["problems"]) == 5


def test_one_problem_is_told_as_one(in_tmp: Path, run_cli: Callable[..., Result]) -> None:
    result = run_cli(_broken(in_tmp, "unknown_account"), "plan")
    assert "Error: 1 problem in the input; nothing was changed." in result.stderr


# --------------------------------------------------------------------------- good example


def test_example_project_checks_ok(example_project: Path, run_cli: Callable[..., Result]) -> None:
    result = run_cli(example_project, "check")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        "ok: 5 entries, 1 event (5 announcements), 1 queue, 2 accounts, 9 content items"
    )
    # the approval-gated entry is listed, never a warning or an error
    assert "2 publications await approval" in result.stdout
    assert result.stderr == ""


def test_example_project_check_json(example_project: Path, run_cli: Callable[..., Result]) -> None:
    result = run_cli(example_project, "check", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert (data["ok"], data["problems"]) == (True, [])
    assert {s["source"] for s in data["limits"]} == {"default"}


def test_check_writes_no_database_and_no_output_files(
    example_project: Path, run_cli: Callable[..., Result]
) -> None:
    result = run_cli(example_project, "check")
    assert result.exit_code == 0
    assert not (example_project.parent / "public").exists()


def test_plan_json_shape(example_project: Path, run_cli: Callable[..., Result]) -> None:
    result = run_cli(example_project, "plan", "--until", "3m", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"checksum", "total", "publications"}
    assert data["total"] == len(data["publications"])  # under the limit
    assert len(data["checksum"]) == 64
    int(data["checksum"], 16)
    publications = data["publications"]
    # an `every: 1m` entry to two accounts: at least 2 minutes × 2 accounts
    assert len(publications) >= 4
    keys = {
        "entry",
        "occurrence",
        "account",
        "platform",
        "content",
        "due_at",
        "local",
        "zone",
        "lengths",
        "limit",
        "unit",
        "parts",
        "problems",
        "note",
    }
    for row in publications:
        assert set(row) == keys
        assert len(row["lengths"]) == len(row["parts"]) >= 1
        assert all(n <= row["limit"] for n in row["lengths"])
        assert row["problems"] == []
        assert row["zone"] == "Europe/Kyiv"
    assert [r["due_at"] for r in publications] == sorted(r["due_at"] for r in publications)
    assert {r["account"] for r in publications} == {"archive", "website-feed"}


def test_plan_table_mentions_checksum(
    example_project: Path, run_cli: Callable[..., Result]
) -> None:
    result = run_cli(example_project, "plan", "--until", "2m")
    assert result.exit_code == 0
    assert "plan sha256 " in result.stdout


@pytest.mark.parametrize("value", ["soon", "0m", "-5m", ""])
def test_plan_until_bad_value_exits_2(
    value: str, example_project: Path, run_cli: Callable[..., Result]
) -> None:
    result = run_cli(example_project, "plan", "--until", value)
    assert result.exit_code == 2
    assert "--until" in result.stderr


@pytest.mark.parametrize("command", ["check", "plan", "publish", "daemon", "status", None])
def test_help_shows_an_example(command: str | None) -> None:
    args = [command, "--help"] if command else ["--help"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0
    assert "Example:" in result.stdout


def test_every_command_help_shows_an_example() -> None:
    for name in cli.commands:  # type: ignore[attr-defined]
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0, name
        assert re.search(r"Examples?:", result.stdout), name


# --------------------------------------------------------------------------- mastodon length

MASTODON = """
    timezone: Europe/Kyiv
    accounts:
      social:
        connector: mastodon
        instance: https://social.example
        access_token: ${{MASTODON_TOKEN}}
        max_characters: 500
    content:
      - id: long
        body: {body}
    posts:
      - id: essay
        content: long
        to: [social]
        at: 2099-06-01 10:00
        utm: false
        thread: {thread}
    """

_SENTENCE = "Our makerspace opens a new wood workshop with a lathe and a bandsaw. "
LONG_BODY = (_SENTENCE * 12).strip()  # 12 × 69 = 827 characters, well over 500


def _mastodon(write: Callable[..., Path], thread: str) -> Path:
    return write(MASTODON.format(body=json.dumps(LONG_BODY), thread=thread))


@pytest.fixture
def mastodon_token(monkeypatch: pytest.MonkeyPatch) -> str:
    """The Mastodon account's token, set in the environment as the schedule refers to it."""
    monkeypatch.setenv("MASTODON_TOKEN", "s3cr3t-token-value")
    return "s3cr3t-token-value"


def test_overlong_mastodon_post_is_reported_by_check_before_it_is_due(
    write_schedule: Callable[..., Path],
    in_tmp: Path,
    run_cli: Callable[..., Result],
    mastodon_token: str,
) -> None:
    schedule = _mastodon(write_schedule, "never")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        result = run_cli(schedule, "check")
        assert len(mock.calls) == 0  # nothing is registered: a request would fail
    assert result.exit_code == 2, result.output
    (line,) = [t for t in result.stderr.splitlines() if t.startswith("schedule.yaml:")]
    assert line.startswith("schedule.yaml:12:")
    assert "essay" in line and "social" in line
    assert f"is {len(LONG_BODY)} characters long (at most 500 on mastodon)" in line
    assert "s3cr3t-token-value" not in result.output


def test_overlong_mastodon_post_json_names_entry_and_length(
    write_schedule: Callable[..., Path],
    in_tmp: Path,
    run_cli: Callable[..., Result],
    mastodon_token: str,
) -> None:
    schedule = _mastodon(write_schedule, "never")
    with responses.RequestsMock():
        result = run_cli(schedule, "check", "--json")
    assert result.exit_code == 2
    (problem,) = json.loads(result.stdout)["problems"]
    assert problem["file"] == "schedule.yaml" and problem["line"] == 12
    assert "essay" in problem["message"] and str(len(LONG_BODY)) in problem["message"]


def test_plan_marks_overlong_post_and_exits_2(
    write_schedule: Callable[..., Path],
    in_tmp: Path,
    run_cli: Callable[..., Result],
    mastodon_token: str,
) -> None:
    schedule = _mastodon(write_schedule, "never")
    with responses.RequestsMock():
        result = run_cli(schedule, "plan", "--until", "30000d", "--json")
    assert result.exit_code == 2
    (row,) = json.loads(result.stdout)["publications"]
    assert row["lengths"] == [len(LONG_BODY)] and row["limit"] == 500
    assert row["problems"]


def test_with_threads_the_long_post_is_split_within_the_limit(
    write_schedule: Callable[..., Path],
    in_tmp: Path,
    run_cli: Callable[..., Result],
    mastodon_token: str,
) -> None:
    schedule = _mastodon(write_schedule, "auto")
    with responses.RequestsMock():
        check = run_cli(schedule, "check")
        result = run_cli(schedule, "plan", "--until", "30000d", "--json")
    assert check.exit_code == 0, check.output
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)["publications"]
    assert row["platform"] == "mastodon" and row["unit"] == "characters"
    assert row["limit"] == 500
    assert len(row["parts"]) >= 2
    assert all(n <= 500 for n in row["lengths"])
    assert row["lengths"] == [len(p) for p in row["parts"]]
    # cut at sentence ends, nothing lost
    assert all(p.endswith(".") for p in row["parts"])
    assert " ".join(row["parts"]) == LONG_BODY


def test_check_reports_missing_template_variable_with_template_line(
    write_schedule: Callable[..., Path], in_tmp: Path, run_cli: Callable[..., Result]
) -> None:
    """Once, though the template fails for each of the two accounts."""
    write_file(in_tmp / "templates" / "default.j2", "{{ body }}\n\nSee {{ linq }}\n")
    schedule = write_schedule("""
        timezone: UTC
        accounts:
          archive: {connector: folder, path: out}
          copy: {connector: folder, path: out2}
        content:
          - id: hello
            body: Hello
        posts:
          - id: hi
            content: hello
            to: [archive, copy]
            at: 2099-01-01 10:00
        """)
    result = run_cli(schedule, "check")
    assert result.exit_code == 2
    assert (
        "templates/default.j2:3:8: template: 'linq' is undefined; did you mean \"link\"?"
        in result.stderr
    )
    assert result.stderr.count("'linq' is undefined") == 1


def test_secret_from_dotenv_next_to_the_schedule(
    write_schedule: Callable[..., Path],
    in_tmp: Path,
    run_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MASTODON_TOKEN", raising=False)
    write_file(in_tmp / ".env", "MASTODON_TOKEN=from-dotenv-token\n")
    schedule = _mastodon(write_schedule, "auto")
    with responses.RequestsMock():
        result = run_cli(schedule, "check")
    assert result.exit_code == 0, result.output
    assert "from-dotenv-token" not in result.output


def test_check_skips_disabled_entries(
    write_schedule: Callable[..., Path],
    in_tmp: Path,
    run_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MASTODON_TOKEN", "t")
    path = _mastodon(write_schedule, "never")
    path.write_text(path.read_text() + "    enabled: false\n")
    with responses.RequestsMock():
        result = run_cli(path, "check")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("member", "shown"),
    [
        ("arcive", 'schedule.yaml:4:18: groups.all.1: unknown account or group "arcive"'),
        # an escape sequence in a quoted name could rewrite the user's screen
        ('"arc\\e[2J\\aive"', 'groups.all.1: unknown account or group "arc[2Jive"'),
    ],
)
def test_unknown_group_member(
    member: str,
    shown: str,
    write_schedule: Callable[..., Path],
    in_tmp: Path,
    run_cli: Callable[..., Result],
) -> None:
    schedule = write_schedule(f"""
        accounts:
          archive: {{connector: folder, path: out}}
        groups:
          all: [archive, {member}]
        """)
    result = run_cli(schedule, "check")
    assert result.exit_code == 2
    assert shown in result.stderr
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr


def test_a_problem_on_line_100_prints_its_line_number(capsys: pytest.CaptureFixture[str]) -> None:
    from crosspost.cli.output import print_problems
    from crosspost.errors import Problem

    print_problems([Problem.at("schedule.yaml", 100, 1, "extra: unknown field")])
    assert capsys.readouterr().err == "schedule.yaml:100:1: extra: unknown field\n"
