"""A content item that fails to load is reported once, not again as "unknown content" by every
entry that refers to it, while a reference to content that does not exist is still reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from crosspost.cli import cli
from tests.conftest import write_file


def _with_broken_news(tmp_path: Path, posts: str) -> Result:
    """``check`` on a project whose content/news.md has broken front matter, with ``posts``."""
    write_file(tmp_path / "content" / "news.md", "---\ntitle: [unclosed\n---\nBody.\n")
    write_file(tmp_path / "content" / "other.md", "---\ntitle: fine\n---\nBody.\n")
    accounts = "accounts:\n  archive: {connector: folder, path: out}\n"
    write_file(
        tmp_path / "schedule.yaml", "timezone: UTC\ncontent_dir: content\n" + accounts + posts
    )
    return CliRunner().invoke(
        cli, ["-s", "schedule.yaml", "--database", f"sqlite:///{tmp_path}/x.db", "check"]
    )


def test_a_broken_front_matter_is_one_error_not_one_per_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = _with_broken_news(
        tmp_path,
        "posts:\n"
        "  - {id: a, content: news, to: [archive], at: 2099-01-01 10:00}\n"
        "  - {id: b, content: news, to: [archive], at: 2099-01-02 10:00}\n"
        "  - {id: c, content: other, to: [archive], at: 2099-01-03 10:00}\n",
    )
    assert result.exit_code == 2
    (error,) = result.stderr.splitlines()
    assert error.startswith("content/news.md:2:8: YAML syntax")


def test_another_entry_with_unknown_content_is_still_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = _with_broken_news(
        tmp_path,
        "posts:\n"
        "  - {id: a, content: news, to: [archive], at: 2099-01-01 10:00}\n"
        "  - {id: b, content: nwes, to: [archive], at: 2099-01-02 10:00}\n",
    )
    assert result.exit_code == 2
    assert "content/news.md:2:" in result.stderr
    message = 'posts.1.content: unknown content "nwes"; did you mean "news"?'
    assert f"schedule.yaml:7:22: {message}" in result.stderr
    assert 'unknown content "news"' not in result.stderr


def test_a_broken_inline_item_or_a_declared_id_is_one_error_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_file(tmp_path / "content" / "x.md", "---\nid: custom\nfoo: 1\n---\nBody.\n")
    result = _with_broken_news(
        tmp_path,
        "content:\n"
        "  - {id: hello, body: Hi, tags: 5}\n"
        "posts:\n"
        "  - {id: a, content: hello, to: [archive], at: 2099-01-01 10:00}\n"
        "  - {id: b, content: custom, to: [archive], at: 2099-01-02 10:00}\n",
    )
    assert result.exit_code == 2
    files = sorted(line.split(":")[0] for line in result.stderr.splitlines())
    assert files == ["content/news.md", "content/x.md", "schedule.yaml"], result.stderr
    assert "unknown content" not in result.stderr
