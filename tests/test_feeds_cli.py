"""``feeds:`` at the command line: check (file:line:field), crosspost feeds, fetch, plan, status."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from crosspost.cli import cli
from tests.fakes import FakePlatform
from tests.feedserver import Doc, FeedServer, Item, rss, serving

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HEAD = """\
timezone: UTC
accounts:
  alpha: {connector: fake}
groups:
  all: [alpha]
"""


@pytest.fixture
def server() -> Iterator[FeedServer]:
    yield from serving()


def schedule(base: Path, feeds: str, template: str = "{{ title }} {{ link }}") -> Path:
    (base / "templates").mkdir(exist_ok=True)
    (base / "templates" / "entry.j2").write_text(template, encoding="utf-8")
    path = base / "schedule.yaml"
    path.write_text(HEAD + "feeds:\n" + textwrap.indent(textwrap.dedent(feeds), "  "), "utf-8")
    return path


def run(path: Path, *args: str) -> Result:
    database = f"sqlite:///{path.parent / 'x.db'}"
    return CliRunner().invoke(cli, ["-s", str(path), "--database", database, *args])


def good(server: FeedServer, extra: str = "") -> str:
    return f"""\
    - id: blog
      url: {server.url("/feed.xml")}
      to: all
      template: entry
      since: 2020-01-01
    {extra}"""


# --------------------------------------------------------------------------- check


@pytest.mark.parametrize(
    ("feed", "line", "expected"),
    [
        ("- {id: b, url: ftp://x/feed, to: alpha}", 7, "feeds.0.url: 'ftp://x/feed' is not an"),
        ("- {id: b, url: 'https://x/f', to: nobody}", 7, "feeds.0.to.0: unknown account or group"),
        ("- {id: b, url: 'https://x/f', to: all, template: entyr}", 7, 'did you mean "entry"'),
        ("- {id: b, url: 'https://x/f', to: all, since: soon}", 7, "feeds.0.since: 'soon' is not"),
        ("- {id: b, url: 'https://x/f', to: all, every: 10s}", 7, "feeds.0.every: every 0:00:10"),
        ("- {id: b, url: 'https://x/f', to: all, max_per_fetch: 0}", 7, "feeds.0.max_per_fetch"),
        ("- {id: b, url: 'https://x/f', to: all, evry: 1h}", 7, 'did you mean "every"?'),
        ("- {id: b, url: 'https://x/f'}", 7, "feeds.0.to: required field is missing"),
        ("- just a string", 7, "feeds.0: Input should be a valid dictionary"),
        (
            "- {id: b, url: 'https://x/f', to: all}\n- {id: b, url: 'https://y/f', to: all}",
            8,
            'feeds.1.id: "b" is used twice',
        ),
    ],
)
def test_check_names_the_line_and_field_of_a_bad_feed(
    tmp_path: Path, platform: FakePlatform, feed: str, line: int, expected: str
) -> None:
    result = run(schedule(tmp_path, feed), "check")
    assert result.exit_code == 2, result.output
    assert f"schedule.yaml:{line}:" in result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_check_renders_the_feed_template_with_a_sample_entry(
    tmp_path: Path, platform: FakePlatform
) -> None:
    feed = "- {id: b, url: 'https://x/f', to: all, template: entry}"
    assert run(schedule(tmp_path, feed), "check").exit_code == 0
    broken = run(schedule(tmp_path, feed, "{{ title }}\n{{ titel }}"), "check")
    assert broken.exit_code == 2
    assert "templates/entry.j2:2:" in broken.stderr and "titel" in broken.stderr


# --------------------------------------------------------------------------- feeds, fetch


def test_feeds_lists_subscriptions_and_their_last_fetch(
    tmp_path: Path, server: FeedServer, platform: FakePlatform
) -> None:
    path = schedule(tmp_path, good(server))
    before = json.loads(run(path, "feeds", "--json").stdout)["feeds"]
    assert before[0]["id"] == "blog" and before[0]["last_fetch_at"] is None
    assert not (tmp_path / "x.db").exists()  # listing creates no database
    server.docs["/feed.xml"] = Doc(rss([Item("1", "One", "https://b.example/1")], title="B"))
    assert run(path, "feeds", "fetch").exit_code == 0
    listed = run(path, "feeds", "--json")
    assert listed.exit_code == 0
    (row,) = json.loads(listed.stdout)["feeds"]
    assert (row["title"], row["posted"], row["error"], row["to"]) == ("B", 1, None, ["alpha"])
    table = run(path, "feeds", "--format", "tsv")
    assert table.stdout.splitlines()[1].split("\t")[:2] == ["blog", "15 min"]


def test_fetch_dry_run_records_nothing_and_fetch_plans_the_posts(
    tmp_path: Path, server: FeedServer, platform: FakePlatform
) -> None:
    path = schedule(tmp_path, good(server))
    server.docs["/feed.xml"] = Doc(rss([Item("1", "One", "https://b.example/1")]), etag='"1"')
    dry = run(path, "feeds", "fetch", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    report = json.loads(dry.stdout)
    assert report["dry_run"] is True
    assert [p["title"] for p in report["feeds"][0]["posts"]] == ["One"]
    assert json.loads(run(path, "plan", "--json").stdout)["publications"] == []
    real = run(path, "feeds", "fetch")
    assert real.exit_code == 0
    assert "blog: 1 new entry to post" in real.stdout and "posts to alpha: One" in real.stdout
    planned = json.loads(run(path, "plan", "--json").stdout)["publications"]
    assert [(p["entry"], p["parts"]) for p in planned] == [
        (
            "feed:blog",
            [
                "One https://b.example/1?utm_source=fake&utm_medium=social&utm_campaign=feed%3Ablog"
                f"&utm_content={planned[0]['content']}"
            ],
        )
    ]
    again = run(path, "feeds", "fetch")
    assert "not modified since the last fetch (HTTP 304)" in again.stdout
    sent = run(path, "daemon", "--once")
    assert sent.exit_code == 0 and "published feed:blog → alpha" in sent.stdout
    assert len(platform.published()) == 1


def test_fetch_of_an_unknown_feed_is_bad_input(
    tmp_path: Path, server: FeedServer, platform: FakePlatform
) -> None:
    result = run(schedule(tmp_path, good(server)), "feeds", "fetch", "blgo")
    assert result.exit_code == 2
    assert "no feed 'blgo' (known: blog)" in result.stderr


def test_a_failing_feed_shows_in_feeds_and_status_until_a_fetch_works(
    tmp_path: Path, server: FeedServer, platform: FakePlatform
) -> None:
    path = schedule(tmp_path, good(server))
    server.docs["/feed.xml"] = Doc(b"<rss><channel><item>")
    failed = run(path, "feeds", "fetch")
    assert failed.exit_code == 1
    assert f"failed blog: {server.url('/feed.xml')}: not a well-formed feed" in failed.stdout
    listed = run(path, "feeds")
    assert listed.exit_code == 1 and "failed" in listed.stdout
    status = run(path, "status")
    assert status.exit_code == 1
    assert "feeds not read (1)" in status.stdout
    failing = json.loads(run(path, "status", "--json").stdout)["failing_feeds"]
    assert [f["feed"] for f in failing] == ["blog"]
    server.docs["/feed.xml"] = Doc(rss([Item("1", "One")]))
    assert run(path, "feeds", "fetch").exit_code == 0
    assert run(path, "status").exit_code == 0
    assert json.loads(run(path, "status", "--json").stdout)["failing_feeds"] == []


# --------------------------------------------------------------------------- documentation


@pytest.mark.parametrize("page", ["README.md", "docs/feeds.md", "schedule.yaml"])
def test_the_documented_feed_examples_are_valid(page: str) -> None:
    import re

    from ruamel.yaml import YAML

    from crosspost.loading.feeds_spec import FeedSpec

    text = (Path(__file__).resolve().parents[1] / page).read_text(encoding="utf-8")
    if page == "schedule.yaml":  # the example is commented out: uncomment it
        start = text.index("# feeds:")
        blocks = [re.sub(r"(?m)^# ?", "", text[start:])]
    else:
        blocks = re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)
    found = [b["feeds"] for b in map(YAML(typ="safe").load, blocks) if "feeds" in (b or {})]
    assert found, page
    for feeds in found:
        for feed in feeds:
            FeedSpec.model_validate(feed)
