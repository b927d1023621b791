"""The example's article: a full Atom entry, a full post file, and an announcement on Mastodon."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
import responses
import time_machine

from tests.contract.harness import fixture
from tests.fakes import ATOM, copy_example, run_in

BEFORE = datetime(2026, 12, 1, 15, 59, 30, tzinfo=UTC)
TITLE = "How we brought the laser cutter back to life"
CANONICAL = "https://makerspace.example/blog/laser-cutter"
MASTODON = """\
  mastodon:
    connector: mastodon
    instance: https://social.example
    access_token: ${MASTODON_TOKEN}

groups:"""


def article_entry(feed: Path) -> ET.Element:
    root = ET.parse(feed).getroot()
    (entry,) = [e for e in root.iter(f"{ATOM}entry") if e.findtext(f"{ATOM}title") == TITLE]
    return entry


def test_the_feed_gets_the_whole_article_and_the_folder_a_full_post(tmp_path: Path) -> None:
    copy_example(tmp_path)
    with time_machine.travel(BEFORE, tick=False):
        result = run_in(tmp_path, "daemon", "--once")
    assert result.exit_code == 0, result.output + result.stderr

    entry = article_entry(tmp_path / "public" / "feed.xml")
    content = entry.find(f"{ATOM}content")
    assert content is not None and content.get("type") == "html"
    assert content.text and content.text.startswith("<p>In October our laser cutter")
    assert "<h2>What was wrong</h2>" in content.text
    assert '<a href="https://makerspace.example/calendar">' in content.text  # the whole body
    assert entry.findtext(f"{ATOM}summary", "").startswith("Six weekends, one new tube")
    links = {link.get("rel"): link.attrib for link in entry.findall(f"{ATOM}link")}
    assert links["alternate"]["href"] == CANONICAL  # canonical: not tagged
    assert links["enclosure"]["href"] == "https://makerspace.example/images/laser-cutter.jpg"
    assert links["enclosure"]["type"] == "image/jpeg"
    assert links["enclosure"]["title"].startswith("The laser cutter with its lid open")
    terms = [c.get("term") for c in entry.findall(f"{ATOM}category")]
    assert terms == ["makerspace", "laser cutter", "repair"]

    (post,) = (tmp_path / "public" / "posts").glob("*-laser-cutter-*.md")
    text = post.read_text(encoding="utf-8")
    front, body = text.split("\n---\n", 1)
    assert 'kind: "article"' in front
    assert f'title: "{TITLE}"' in front
    assert f'canonical_url: "{CANONICAL}"' in front
    assert 'tags: ["makerspace", "laser cutter", "repair"]' in front
    assert '"url": "https://makerspace.example/images/laser-cutter.jpg"' in front
    assert body.startswith("\nIn October our laser cutter")
    assert "## Booking it" in body  # Markdown, whole


def _with_mastodon(base: Path, monkeypatch: pytest.MonkeyPatch, canonical: bool) -> None:
    copy_example(base)
    schedule = base / "schedule.yaml"
    text = schedule.read_text(encoding="utf-8")
    text = text.replace("\ngroups:", "\n" + MASTODON, 1)
    text = text.replace(
        "    content: laser-cutter\n    to: [everywhere]",
        "    content: laser-cutter\n    to: [everywhere, mastodon]",
    )
    schedule.write_text(text, encoding="utf-8")
    if not canonical:
        article = base / "content" / "laser-cutter.md"
        lines = article.read_text(encoding="utf-8").splitlines(keepends=True)
        article.write_text("".join(x for x in lines if not x.startswith("canonical_url:")))
    monkeypatch.setenv("MASTODON_TOKEN", "mastodon-token")


def _published_to_mastodon(base: Path) -> tuple[str, dict[str, str]]:
    with (
        responses.RequestsMock(assert_all_requests_are_fired=False) as rsps,
        time_machine.travel(BEFORE, tick=False),
    ):
        rsps.get("https://social.example/api/v2/instance", json=fixture("mastodon", "instance"))
        rsps.post("https://social.example/api/v1/statuses", json=fixture("mastodon", "status"))
        result = run_in(base, "daemon", "--once")
        sent = [c for c in rsps.calls if c.request.url.endswith("/api/v1/statuses")]
    assert result.exit_code == 0, result.output + result.stderr
    (call,) = sent
    body = call.request.body
    return result.stdout, dict(parse_qsl(body.decode() if isinstance(body, bytes) else str(body)))


def test_mastodon_gets_an_announcement_with_the_canonical_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_mastodon(tmp_path, monkeypatch, canonical=True)
    stdout, sent = _published_to_mastodon(tmp_path)
    assert "published laser-article → mastodon" in stdout
    status = sent["status"]
    assert status.splitlines()[0] == TITLE
    assert "Six weekends, one new tube and a lot of mirror alignment." in status
    assert f"{CANONICAL}?utm_source=mastodon&utm_medium=social" in status
    assert status.endswith("#makerspace #LaserCutter #repair")
    assert "In October" not in status  # an announcement, not the article


def test_without_a_canonical_url_mastodon_links_to_the_feed_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_mastodon(tmp_path, monkeypatch, canonical=False)
    _stdout, sent = _published_to_mastodon(tmp_path)
    status = json.loads(run_in(tmp_path, "status", "--json").stdout)["publications"]
    (feed_row,) = [
        r for r in status if r["entry"] == "laser-article" and r["account"] == "website-feed"
    ]
    address, _, fragment = feed_row["url"].partition("#")
    assert address.startswith("file://")
    # the feed entry's URL, tagged (the tags go before the fragment)
    assert f"{address}?utm_source=mastodon&utm_medium=social" in sent["status"]
    assert sent["status"].split("\n\n")[2].endswith(f"#{fragment}")


def test_plan_shows_a_stand_in_for_a_url_not_known_yet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_mastodon(tmp_path, monkeypatch, canonical=False)
    schedule = tmp_path / "schedule.yaml"
    text = schedule.read_text(encoding="utf-8").replace("at: 2026-01-15 10:00", "at: 2027-01-15")
    schedule.write_text(text, encoding="utf-8")
    with time_machine.travel(BEFORE, tick=False):
        result = run_in(
            tmp_path, "plan", "--until", "60d", "--entry", "laser-article", "--json", "--verbose"
        )
    assert result.exit_code == 0, result.output + result.stderr
    posts = {p["account"]: p for p in json.loads(result.stdout)["publications"]}
    assert (
        "https://website-feed.invalid/article?utm_source=mastodon" in posts["mastodon"]["parts"][0]
    )
    assert posts["website-feed"]["parts"][0].startswith("<p>In October")


def test_publish_sends_the_article_first_and_announces_its_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_mastodon(tmp_path, monkeypatch, canonical=False)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get("https://social.example/api/v2/instance", json=fixture("mastodon", "instance"))
        rsps.post("https://social.example/api/v1/statuses", json=fixture("mastodon", "status"))
        result = run_in(tmp_path, "publish", "laser-cutter", "--to", "mastodon,archive", "--json")
        (call,) = [c for c in rsps.calls if c.request.url.endswith("/api/v1/statuses")]
    assert result.exit_code == 0, result.output + result.stderr
    results = {r["account"]: r for r in json.loads(result.stdout)["publications"]}
    assert list(results) == ["mastodon", "archive"]  # reported in the order asked
    archive_url = results["archive"]["url"]
    body = call.request.body
    sent = dict(parse_qsl(body.decode() if isinstance(body, bytes) else str(body)))
    assert f"{archive_url}?utm_source=mastodon" in sent["status"]


def test_check_verbose_shows_the_next_post_of_every_entry_per_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_mastodon(tmp_path, monkeypatch, canonical=True)
    schedule = tmp_path / "schedule.yaml"
    text = schedule.read_text(encoding="utf-8").replace("at: 2026-01-15 10:00", "at: 2027-01-15")
    schedule.write_text(text, encoding="utf-8")
    with time_machine.travel(BEFORE, tick=False):
        result = run_in(tmp_path, "check", "--verbose", "--json")
        table = run_in(tmp_path, "check", "--verbose")
    assert result.exit_code == 0, result.output + result.stderr
    posts = [p for p in json.loads(result.stdout)["publications"] if p["entry"] == "laser-article"]
    assert {p["account"]: p["parts"][0][:20] for p in posts} == {
        "website-feed": "<p>In October our la",
        "archive": "In October our laser",
        "mastodon": TITLE[:20],
    }
    assert table.exit_code == 0 and "laser-" in table.stdout
