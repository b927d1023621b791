"""``crosspost publish`` on the repository's example: once, twice, --again, --dry-run, bad --to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from crosspost.cli import cli
from crosspost.store import Store
from tests.fakes import copy_example, feed_entries


@pytest.fixture
def example(tmp_path: Path) -> Path:
    copy_example(tmp_path)
    return tmp_path


def run(base: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["-s", str(base / "schedule.yaml"), "--database", f"sqlite:///{base}/x.db", *args]
    )


def rows(base: Path) -> list[tuple[str, str, str]]:
    store = Store(f"sqlite:///{base}/x.db")
    try:
        return [(p.entry, p.account, p.status) for p in store.publications()]
    finally:
        store.close()


def test_publish_sends_and_records(example: Path) -> None:
    result = run(example, "publish", "welcome", "--to", "website-feed")
    assert result.exit_code == 0, result.output + result.stderr
    assert result.stdout.startswith("published website-feed: welcome file://")
    assert rows(example) == [("publish:welcome", "website-feed", "published")]
    (entry,) = feed_entries(example / "public" / "feed.xml")
    assert entry["title"] == "Welcome to the makerspace feed"
    assert "This is our new feed." in entry["content"]
    assert not (example / "public" / "posts").exists()  # only the account asked for


def test_publishing_twice_does_not_post_twice(example: Path) -> None:
    assert run(example, "publish", "welcome", "--to", "website-feed").exit_code == 0
    second = run(example, "publish", "welcome", "--to", "website-feed")
    assert second.exit_code == 0, second.output + second.stderr
    assert "already published; nothing sent (use --again" in second.stdout
    assert len(feed_entries(example / "public" / "feed.xml")) == 1
    assert rows(example) == [("publish:welcome", "website-feed", "published")]


def test_again_posts_again(example: Path) -> None:
    assert run(example, "publish", "welcome", "--to", "website-feed").exit_code == 0
    again = run(example, "publish", "welcome", "--to", "website-feed", "--again")
    assert again.exit_code == 0, again.output + again.stderr
    assert again.stdout.startswith("published website-feed")
    assert len(feed_entries(example / "public" / "feed.xml")) == 2
    assert [r[2] for r in rows(example)] == ["published", "published"]


def test_dry_run_sends_nothing(example: Path) -> None:
    result = run(example, "publish", "welcome", "--to", "everywhere", "--dry-run")
    assert result.exit_code == 0, result.output + result.stderr
    assert "dry-run website-feed: welcome" in result.stdout
    assert "dry-run archive: welcome" in result.stdout
    assert "This is our new feed." in result.stdout  # the rendered text is shown
    assert not (example / "public").exists()
    assert rows(example) == []


def test_dry_run_shows_each_length_against_the_limit(example: Path) -> None:
    result = run(example, "publish", "welcome", "--to", "archive", "--dry-run", "--json")
    assert result.exit_code == 0, result.output + result.stderr
    (shown,) = json.loads(result.stdout)["publications"]
    assert shown["lengths"] == [len(shown["parts"][0])]  # plain ASCII: graphemes = characters
    assert (shown["limit"], shown["unit"]) == (100_000, "graphemes")
    text = run(example, "publish", "welcome", "--to", "archive", "--dry-run").stdout
    assert f"— {shown['lengths'][0]}/100000 graphemes —" in text


def test_a_group_publishes_to_each_member(example: Path) -> None:
    result = run(example, "publish", "content/welcome.md", "--to", "everywhere", "--json")
    assert result.exit_code == 0, result.output + result.stderr
    assert sorted(r[1] for r in rows(example)) == ["archive", "website-feed"]
    assert len(list((example / "public" / "posts").glob("*.md"))) == 1


def test_unknown_account_exits_2_and_sends_nothing(example: Path) -> None:
    result = run(example, "publish", "welcome", "--to", "website-feed,nope")
    assert result.exit_code == 2
    assert "--to:1:1" not in result.stderr  # the option, not a fake file location
    assert "Invalid value for --to" in result.stderr
    assert 'unknown account or group "nope"' in result.stderr
    assert not (example / "public").exists()
    assert rows(example) == []


def test_unknown_content_exits_2(example: Path) -> None:
    result = run(example, "publish", "welcom", "--to", "website-feed")
    assert result.exit_code == 2
    assert 'no content "welcom" (an id or a .md file); did you mean "welcome"?' in result.stderr
    assert "schedule.yaml:1:1:" in result.stderr


def test_misspelt_account_says_did_you_mean(example: Path) -> None:
    result = run(example, "publish", "welcome", "--to", "website-fed")
    assert result.exit_code == 2
    assert "--to" in result.stderr and 'did you mean "website-feed"?' in result.stderr
    assert rows(example) == []
