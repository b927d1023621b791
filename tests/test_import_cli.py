"""`crosspost import`: rows become content files and schedule entries, or every bad row is named."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.conftest import write_file

SCHEDULE = """\
# The club's schedule: comments and layout must survive an import.
timezone: Europe/Berlin
content_dir: content

accounts:
  archive:
    connector: folder
    path: out/posts
  masto:
    connector: mastodon
    instance: https://social.example
    access_token: ${MASTODON_TOKEN}

groups:
  everywhere: [archive, masto]   # both of them

content:
  - id: hours
    body: Open from 17:00.

posts:
  - id: open-hours
    content: hours
    to: [archive]
    cron: "0 9 * * 1"   # Mondays
"""

HEADER = ["id", "title", "body", "to", "at", "timezone", "tags"]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MASTODON_TOKEN", "s3cr3t-token-value")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "content").mkdir()
    return write_file(tmp_path / "schedule.yaml", SCHEDULE)


def _csv(rows: list[list[str]], header: list[str] = HEADER) -> tuple[str, list[int]]:
    """The CSV text and the physical line each row starts on (bodies span lines)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    starts = []
    for row in rows:
        starts.append(buffer.getvalue().count("\n") + 1)
        writer.writerow(row)
    return buffer.getvalue(), starts


def _row(index: int) -> list[str]:
    body = (
        f"Workshop number {index}.\nBring a friend, and a laptop." if index % 3 else f"Talk {index}"
    )
    at = f"2031-{1 + index % 12:02d}-{1 + index % 28:02d} {8 + index % 10:02d}:30"
    return [f"event-{index}", f"Event {index}", body, "everywhere", at, "", "club, events"]


def _problems(result: Result) -> list[tuple[int, str]]:
    """``(line, column name)`` of every problem printed on stderr."""
    found = []
    for line in result.stderr.splitlines():
        if line.startswith("rows.csv:"):
            _, number, _, rest = line.split(":", 3)
            found.append((int(number), rest.strip().split(":", 1)[0]))
    return found


def test_200_rows_five_broken_including_one_too_long_for_its_platform(
    project: Path, run_cli: Callable[..., Result]
) -> None:
    header = [*HEADER, "thread"]
    rows = [[*_row(i), "never"] for i in range(200)]
    broken = {3: "to", 64: "at", 120: "id", 151: "body", 188: "timezone"}
    rows[3][3] = "nobody"
    rows[64][4] = "next tuesday"
    rows[120][0] = "event-7"
    rows[151][2] = "y" * 501
    rows[188][5] = "Europe/Berln"
    text, starts = _csv(rows, header)
    (project.parent / "rows.csv").write_text(text, encoding="utf-8")

    result = run_cli(project, "import", "rows.csv")

    assert result.exit_code == 2
    assert sorted(_problems(result)) == sorted((starts[i], col) for i, col in broken.items())
    assert "5 rows of rows.csv have problems; nothing was written" in result.stderr
    assert "for masto (mastodon)" in result.stderr and "at most 500" in result.stderr
    assert "is also on line " + str(starts[7]) in result.stderr
    assert 'did you mean "Europe/Berlin"?' in result.stderr
    assert starts[64] > 65  # multi-line bodies above it moved it down


def test_a_time_in_the_past_is_refused(project: Path, run_cli: Callable[..., Result]) -> None:
    write_file(
        project.parent / "rows.csv", "id,body,to,at\nold,Old news,archive,2020-01-01 10:00\n"
    )

    result = run_cli(project, "import", "rows.csv")

    assert result.exit_code == 2
    assert "rows.csv:2:4: at: never fires: 2020-01-01 10:00 Europe/Berlin is in the past" in (
        result.stderr
    )


def test_good_import_then_check_passes_and_plan_shows_the_posts(
    project: Path, run_cli: Callable[..., Result]
) -> None:
    text, _ = _csv([_row(i) for i in range(20)])
    (project.parent / "rows.csv").write_text(text, encoding="utf-8")
    before = project.read_text(encoding="utf-8")

    result = run_cli(project, "import", "rows.csv")

    assert result.exit_code == 0, result.output
    assert "20 content files, 20 entries from rows.csv" in result.stdout
    after = project.read_text(encoding="utf-8")
    assert after.startswith(before)  # comments, quotes and layout untouched
    assert "  # imported from rows.csv: 20 entries\n  - id: event-0\n" in after
    markdown = (project.parent / "content" / "event-1.md").read_text(encoding="utf-8")
    assert markdown == (
        "---\ntitle: Event 1\ntags: [club, events]\n---\n"
        "Workshop number 1.\nBring a friend, and a laptop.\n"
    )
    assert run_cli(project, "check").exit_code == 0
    plan = run_cli(project, "plan", "--until", "3000d", "--limit", "0", "--json")
    entries = {p["entry"] for p in json.loads(plan.stdout)["publications"]}
    assert {f"event-{i}" for i in range(20)} <= entries
    again = run_cli(project, "import", "rows.csv")
    assert again.exit_code == 2 and "already an entry of the schedule" in again.stderr


def test_dry_run_shows_the_files_and_writes_nothing(
    project: Path, run_cli: Callable[..., Result]
) -> None:
    text, _ = _csv([_row(1)])
    (project.parent / "rows.csv").write_text(text, encoding="utf-8")
    before = project.read_text(encoding="utf-8")

    result = run_cli(project, "import", "rows.csv", "--dry-run")

    assert result.exit_code == 0, result.output
    assert "would write content/event-1.md" in result.stdout
    assert "+  - id: event-1" in result.stdout
    assert project.read_text(encoding="utf-8") == before
    assert not (project.parent / "content" / "event-1.md").exists()


def test_json_rows_are_placed_on_the_line_of_their_object(
    project: Path, run_cli: Callable[..., Result]
) -> None:
    rows = [
        {"id": "a", "body": "Hello", "to": ["archive"], "at": "2031-01-01 10:00"},
        {"id": "b", "body": "Hi", "to": "archive", "cron": "0 25 * * *"},
    ]
    text = "[\n" + ",\n".join(json.dumps(r, indent=2) for r in rows) + "\n]\n"
    (project.parent / "rows.json").write_text(text, encoding="utf-8")

    result = run_cli(project, "import", "rows.json", "--json")

    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert not report["written"]
    [problem] = report["problems"]
    second = text[: text.index('"id": "b"')].count("\n")  # the line of its "{"
    assert problem["line"] == second and problem["message"].startswith("cron: ")


def test_unknown_column_names_the_header_cell(
    project: Path, run_cli: Callable[..., Result]
) -> None:
    write_file(project.parent / "rows.csv", "id,body,to,tiemzone\na,b,archive,UTC\n")

    result = run_cli(project, "import", "rows.csv")

    assert result.exit_code == 2
    assert 'rows.csv:1:4: unknown column "tiemzone"' in result.stderr
    assert 'did you mean "timezone"?' in result.stderr


def test_media_paths_are_written_relative_to_the_content_file(
    project: Path, run_cli: Callable[..., Result]
) -> None:
    (project.parent / "images").mkdir()
    (project.parent / "images" / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    write_file(
        project.parent / "rows.csv",
        """
        id;body;media;alt;to;at
        pic;With a picture;images/a.png|images/gone.png;A red door|;archive;2031-01-01 10:00
        pic2;With a picture;images/a.png;A red door;archive;2031-01-01 10:00
        """,
    )

    result = run_cli(project, "import", "rows.csv")
    assert result.exit_code == 2
    assert 'rows.csv:2:3: media: no file "images/gone.png" in the project' in result.stderr

    write_file(
        project.parent / "rows.csv",
        (project.parent / "rows.csv")
        .read_text()
        .replace("images/a.png|images/gone.png;A red door|", "images/a.png;A red door")
        .replace("pic2", "pic3"),
    )
    assert run_cli(project, "import", "rows.csv").exit_code == 0
    text = (project.parent / "content" / "pic.md").read_text(encoding="utf-8")
    assert "media:\n- path: ../images/a.png\n  alt: A red door\n" in text
    assert run_cli(project, "check").exit_code == 0


def test_a_row_may_schedule_existing_content_or_only_add_content(
    project: Path, run_cli: Callable[..., Result]
) -> None:
    write_file(
        project.parent / "rows.csv",
        """
        id,content_id,body,to,every
        hours-often,hours,,archive,6h
        draft,,Just a draft for later,,
        typo,hour,,archive,6h
        """,
    )
    result = run_cli(project, "import", "rows.csv")
    assert result.exit_code == 2
    assert 'rows.csv:4:2: content_id: unknown content "hour"; did you mean "hours"?' in (
        result.stderr
    )

    lines = (project.parent / "rows.csv").read_text().splitlines()
    (project.parent / "rows.csv").write_text("\n".join(lines[:3]) + "\n")
    result = run_cli(project, "import", "rows.csv")
    assert result.exit_code == 0, result.output
    assert (project.parent / "content" / "draft.md").read_text() == "Just a draft for later\n"
    assert not (project.parent / "content" / "hours-often.md").exists()
    schedule = project.read_text(encoding="utf-8")
    assert "  - id: hours-often\n    content: hours\n    to: [archive]\n    every: 6h\n" in schedule
    assert "id: draft" not in schedule
