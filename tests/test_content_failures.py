"""A content item that fails to load is reported once, not again as "unknown content" by every
entry that refers to it, while a reference to content that does not exist is still reported."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from crosspost.cli import cli
from tests.conftest import write_file


@pytest.fixture
def check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """``check(*contents, inline="")``: ``check`` on a project with content/news.md broken
    and one entry per content reference (without ``inline``, entry n is on line 5 + n)."""
    monkeypatch.chdir(tmp_path)
    write_file(tmp_path / "content" / "news.md", "---\ntitle: [unclosed\n---\nBody.\n")
    write_file(tmp_path / "content" / "other.md", "---\ntitle: fine\n---\nBody.\n")

    def run(*contents: str, inline: str = "") -> Result:
        posts = "".join(
            f"  - {{id: p{n}, content: {c}, to: [archive], at: 2099-01-01 10:00}}\n"
            for n, c in enumerate(contents)
        )
        head = "timezone: UTC\ncontent_dir: content\n"
        head += "accounts: {archive: {connector: folder, path: out}}\n"
        write_file(tmp_path / "schedule.yaml", head + inline + "posts:\n" + posts)
        database = f"sqlite:///{tmp_path}/x.db"
        return CliRunner().invoke(cli, ["-s", "schedule.yaml", "--database", database, "check"])

    return run


def test_a_broken_front_matter_is_one_error_not_one_per_entry(check: Callable[..., Result]) -> None:
    result = check("news", "news", "other")
    assert result.exit_code == 2
    (error,) = result.stderr.splitlines()
    assert error.startswith("content/news.md:2:8: YAML syntax")


def test_another_entry_with_unknown_content_is_still_reported(
    check: Callable[..., Result],
) -> None:
    result = check("news", "nwes")
    assert result.exit_code == 2
    assert "content/news.md:2:" in result.stderr
    message = 'posts.1.content: unknown content "nwes"; did you mean "news"?'
    assert f"schedule.yaml:6:23: {message}" in result.stderr
    assert 'unknown content "news"' not in result.stderr


def test_a_broken_inline_item_or_a_declared_id_is_one_error_each(
    check: Callable[..., Result], tmp_path: Path
) -> None:
    write_file(tmp_path / "content" / "x.md", "---\nid: custom\nfoo: 1\n---\nBody.\n")
    result = check("hello", "custom", inline="content:\n  - {id: hello, body: Hi, tags: 5}\n")
    assert result.exit_code == 2
    files = sorted(line.split(":")[0] for line in result.stderr.splitlines())
    assert files == ["content/news.md", "content/x.md", "schedule.yaml"], result.stderr
    assert "unknown content" not in result.stderr
