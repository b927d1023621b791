"""A schedule may grow past the 1 MiB of other project files, within bounds that keep its
parsing to about a gigabyte: bytes, values and lines, each refused with file and limit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from crosspost.errors import ConfigError
from crosspost.loading import yamlfile
from crosspost.loading.inputfile import MAX_FILE_BYTES, MAX_SCHEDULE_BYTES
from crosspost.loading.yamlfile import parse_yaml
from tests.conftest import write_file

SCHEDULE = """\
timezone: UTC
accounts:
  out: {connector: folder, path: out}
content:
  - {id: hello, body: Hello.}
posts:
  - {id: hi, content: hello, to: [out], cron: '0 9 * * *'}
"""


def _padded(path: Path, size: int) -> Path:
    """The schedule above followed by one comment line, ``size`` bytes in all."""
    comment = "# " + "x" * (size - len(SCHEDULE) - 3) + "\n"
    path.write_text(SCHEDULE + comment, encoding="utf-8")
    return path


def test_a_schedule_larger_than_other_project_files_is_checked(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    schedule = _padded(tmp_path / "schedule.yaml", MAX_FILE_BYTES + 100_000)
    result = run_cli(schedule, "check")
    assert result.exit_code == 0, result.output
    assert "ok: 1 entry," in result.output


def test_a_schedule_over_its_limit_is_refused_unread_with_file_and_limit(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text(SCHEDULE, encoding="utf-8")
    with schedule.open("r+b") as handle:
        handle.truncate(MAX_SCHEDULE_BYTES + 1)  # sparse: no 16 MiB written
    result = run_cli(schedule, "check")
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "schedule.yaml:1:1: the file is larger than 16384 KiB" in result.output
    assert "the limit for a schedule file" in result.output
    assert "Traceback" not in result.output


def test_content_files_keep_the_project_file_limit(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    schedule = write_file(tmp_path / "schedule.yaml", SCHEDULE.replace("hello, to", "big.md, to"))
    _padded(tmp_path / "big.md", MAX_FILE_BYTES + 10)
    result = run_cli(schedule, "check")
    assert result.exit_code == 2
    assert "larger than 1024 KiB, the limit for a project file" in result.output


def test_more_values_than_the_limit_are_refused_where_they_cross_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(yamlfile, "MAX_VALUES", 50)
    parse_yaml("x: [" + "0, " * 40 + "0]\n", "schedule.yaml")  # 43 values
    with pytest.raises(ConfigError) as caught:
        parse_yaml("x:\n  y: [" + "0, " * 60 + "0]\n", "schedule.yaml")
    problem = caught.value.problems[0]
    assert (problem.line, problem.column) == (2, 7 + 3 * 45)  # the 51st value (keys count), item 46
    assert "more than 50 values in one file (the limit)" in problem.message


def test_more_lines_than_the_limit_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlfile, "MAX_LINES", 10)
    parse_yaml("x: 1\n" + "#\n" * 9, "schedule.yaml")
    with pytest.raises(ConfigError) as caught:
        parse_yaml("x: 1\n" + "\n" * 10, "schedule.yaml")
    problem = caught.value.problems[0]
    assert (problem.line, problem.message) == (11, "more than 10 lines in one file (the limit)")
