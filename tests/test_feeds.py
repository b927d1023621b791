"""Feeds in, against a feed server on 127.0.0.1: RSS, Atom and JSON Feed entries posted once.

The poller fetches with a fake clock; the daemon publishes through the fake
platform. Covered: what each format gives a template, ``since`` (a date and
``subscribed`` with 500 old entries), ``max_per_fetch``, an edited entry, ETag and
Last-Modified (304), a malformed feed and the good fetch after it, stable ids.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crosspost.loading.project import load_project
from crosspost.publishing.daemon import Daemon
from crosspost.publishing.feeds import FeedPoller
from crosspost.publishing.feeds_fetch import fetch_feed
from crosspost.status import Status
from crosspost.store import Store
from crosspost.store.feeds import entry_counts, feed_states
from tests.fakes import FakeClock, FakePlatform
from tests.feedserver import Doc, FeedServer, Item, atom, json_feed, rss, serving

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TEMPLATE = (
    "{{ title }} | {{ summary }} | {{ link }} | {{ image }} | {{ tags | hashtags }} | "
    "{{ published.isoformat() if published else 'undated' }} | {{ feed.title }} | {{ author }}"
)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    yield from serving()


def write(base: Path, server: FeedServer, feed: str = "", path: str = "/feed.xml") -> Path:
    (base / "templates").mkdir(exist_ok=True)
    (base / "templates" / "entry.j2").write_text(TEMPLATE, encoding="utf-8")
    text = textwrap.dedent(
        f"""\
        timezone: Europe/Kyiv
        accounts:
          alpha: {{connector: fake}}
          beta: {{connector: fake}}
        groups:
          both: [alpha, beta]
        feeds:
          - id: blog
            url: {server.url(path)}
            to: both
            template: entry
        """
    )
    path_ = base / "schedule.yaml"
    path_.write_text(text + textwrap.indent(textwrap.dedent(feed), "    "), encoding="utf-8")
    return path_


def items(count: int, start: datetime, prefix: str = "post") -> list[Item]:
    return [
        Item(
            f"urn:{prefix}:{n}",
            f"{prefix} {n}",
            f"https://blog.example/{prefix}/{n}",
            published=start + timedelta(hours=n),
        )
        for n in range(count)
    ]


class Run:
    """A project, a store, a clock and the daemon over them."""

    def __init__(self, base: Path, store: Store, clock: FakeClock) -> None:
        self.path, self.store, self.clock = base / "schedule.yaml", store, clock

    def poller(self) -> FeedPoller:
        return FeedPoller(self.store, self.clock)

    def fetch(self) -> list[str]:
        """Fetch every feed now; the titles planned."""
        project = load_project(self.path)
        reports = [self.poller().poll(project, f) for f in project.feeds]
        return [e.title for r in reports for e in r.planned]

    def daemon(self) -> Daemon:
        return Daemon(self.path, self.store, clock=self.clock)


@pytest.fixture
def run(tmp_path: Path, store: Store, platform: FakePlatform) -> Run:
    return Run(tmp_path, store, FakeClock(T0))


# --------------------------------------------------------------------------- formats


def test_rss_entries_after_subscribing_reach_the_template_with_every_field(
    tmp_path: Path, server: FeedServer, run: Run, platform: FakePlatform
) -> None:
    write(tmp_path, server)
    old = [Item("urn:old", "Old news", "https://blog.example/old", published=T0 - timedelta(1))]
    server.docs["/feed.xml"] = Doc(rss(old, title="Makers' blog"))
    assert run.fetch() == []  # since: subscribed: the first fetch only marks what is there
    fresh = Item(
        "urn:new",
        "Laser cutter *back*",
        "https://blog.example/laser",
        summary="<p>It works &amp; it cuts.</p><p># Not a heading</p><script>x()</script>",
        published=T0 + timedelta(minutes=30),
        tags=("laser cutting", "tools"),
        image="https://blog.example/laser.png",
    )
    server.docs["/feed.xml"] = Doc(rss([fresh, *old], title="Makers' blog"))
    run.clock.advance(timedelta(hours=1))
    assert run.fetch() == ["Laser cutter *back*"]
    run.daemon().run_once()
    texts = sorted((c.account, c.text) for c in platform.published())
    assert [account for account, _ in texts] == ["alpha", "beta"]
    assert texts[0][1] == (
        "Laser cutter *back* | It works & it cuts.\n\n# Not a heading | "
        "https://blog.example/laser?utm_source=fake&utm_medium=social&utm_campaign=feed%3Ablog"
        f"&utm_content=blog.{_key('urn:new')[:16]} | https://blog.example/laser.png | "
        "#LaserCutting #tools | 2026-12-01T14:30:00+02:00 | Makers' blog |"
    )


def _key(guid: str) -> str:
    from crosspost.publishing.feeds_parse import entry_key

    return entry_key(guid)


def test_atom_entries_since_a_date_skip_the_older_ones(
    tmp_path: Path, server: FeedServer, run: Run, platform: FakePlatform
) -> None:
    write(tmp_path, server, "since: 2026-12-01 13:00\n")  # Kyiv: 11:00 UTC
    server.docs["/feed.xml"] = Doc(
        atom(items(4, T0 - timedelta(hours=2))), content_type="application/atom+xml"
    )
    # published 10:00, 11:00, 12:00, 13:00 UTC: the first is before since
    assert run.fetch() == ["post 1", "post 2", "post 3"]
    assert entry_counts(run.store)["blog"] == {"old": 1, "planned": 3}
    run.daemon().run_once()
    assert len(platform.published("alpha")) == 3
    assert [c.text.split(" | ")[0] for c in platform.published("alpha")] == [
        "post 1",
        "post 2",
        "post 3",
    ]  # oldest first, as they were written


def test_json_feed_entries_are_read_by_our_own_parser(
    tmp_path: Path, server: FeedServer, run: Run, platform: FakePlatform
) -> None:
    write(tmp_path, server, "since: 2020-01-01\n", path="/feed.json")
    entry = Item(
        "1",
        "JSON news",
        "https://blog.example/json",
        summary="<p>Hello <b>there</b></p>",
        published=T0,
        tags=("json",),
        image="https://blog.example/j.png",
    )
    server.docs["/feed.json"] = Doc(
        json_feed([entry], title="JSON blog"), content_type="application/feed+json"
    )
    assert run.fetch() == ["JSON news"]
    run.daemon().run_once()
    (call,) = platform.published("alpha")
    assert call.text.startswith("JSON news | Hello there | https://blog.example/json?utm_")
    assert call.text.endswith(
        "| https://blog.example/j.png | #json | 2026-12-01T14:00:00+02:00 | JSON blog |"
    )


# --------------------------------------------------------------------------- exactly once


def test_500_old_entries_with_since_subscribed_post_nothing_then_only_the_new(
    tmp_path: Path, server: FeedServer, run: Run, platform: FakePlatform
) -> None:
    write(tmp_path, server, "max_per_fetch: 10\n")
    backlog = items(500, T0 - timedelta(days=30), "old")
    server.docs["/feed.xml"] = Doc(rss(backlog))
    assert run.fetch() == []
    assert entry_counts(run.store)["blog"] == {"old": 500}
    run.clock.advance(timedelta(minutes=15))
    server.docs["/feed.xml"] = Doc(rss([*items(3, run.clock.now, "new"), *backlog]))
    assert run.fetch() == ["new 0", "new 1", "new 2"]
    run.daemon().run_once()
    assert len(platform.published()) == 6  # 3 entries × 2 accounts


def test_max_per_fetch_posts_the_newest_and_remembers_the_rest(
    tmp_path: Path, server: FeedServer, run: Run
) -> None:
    write(tmp_path, server, "since: 2020-01-01\nmax_per_fetch: 2\n")
    server.docs["/feed.xml"] = Doc(rss(items(5, T0)))
    assert run.fetch() == ["post 3", "post 4"]
    assert entry_counts(run.store)["blog"] == {"capped": 3, "planned": 2}
    assert run.fetch() == []  # the capped ones are seen: not posted later either


def test_an_edited_entry_with_the_same_id_is_not_posted_again(
    tmp_path: Path, server: FeedServer, run: Run, platform: FakePlatform
) -> None:
    write(tmp_path, server, "since: 2020-01-01\n")
    server.docs["/feed.xml"] = Doc(rss([Item("urn:a", "Typo", "https://b.example/a")]))
    assert run.fetch() == ["Typo"]
    run.daemon().run_once()
    server.docs["/feed.xml"] = Doc(
        rss([Item("urn:a", "Fixed title", "https://b.example/a-fixed", summary="more")])
    )
    run.clock.advance(timedelta(hours=1))
    assert run.fetch() == []
    run.daemon().run_once()
    assert [c.text.split(" | ")[0] for c in platform.published()] == ["Typo", "Typo"]


def test_ids_fall_back_to_the_link_then_to_title_and_link(
    tmp_path: Path, server: FeedServer, run: Run
) -> None:
    write(tmp_path, server, "since: 2020-01-01\n")
    undated = [
        Item(None, "Linked", "https://b.example/linked"),
        Item(None, "Bare words"),
    ]
    server.docs["/feed.xml"] = Doc(rss(undated))
    assert sorted(run.fetch()) == ["Bare words", "Linked"]
    server.docs["/feed.xml"] = Doc(rss(list(reversed(undated))))
    assert run.fetch() == []  # the same two, in another order


def test_the_seen_set_survives_a_new_address_for_the_same_feed(
    tmp_path: Path, server: FeedServer, run: Run
) -> None:
    write(tmp_path, server, "since: 2020-01-01\n")
    server.docs["/feed.xml"] = server.docs["/moved.xml"] = Doc(rss(items(2, T0)))
    assert len(run.fetch()) == 2
    write(tmp_path, server, "since: 2020-01-01\n", path="/moved.xml")
    assert run.fetch() == []
    assert feed_states(run.store)["blog"].url == server.url("/moved.xml")


# --------------------------------------------------------------------------- HTTP caching


def test_etag_and_last_modified_are_sent_back_and_304_means_nothing_new(
    tmp_path: Path, server: FeedServer, run: Run
) -> None:
    write(tmp_path, server, "since: 2020-01-01\n")
    stamp = "Tue, 01 Dec 2026 11:00:00 GMT"
    server.docs["/feed.xml"] = Doc(rss(items(1, T0)), etag='"v1"')
    server.docs["/lm.xml"] = Doc(rss(items(1, T0)), last_modified=stamp)
    assert run.fetch() == ["post 0"]
    assert run.fetch() == []
    assert server.asked("/feed.xml")[0].get("if-none-match") is None
    assert server.asked("/feed.xml")[1]["if-none-match"] == '"v1"'
    project = load_project(write(tmp_path, server, "since: 2020-01-01\n", path="/lm.xml"))
    poller = run.poller()
    poller.poll(project, project.feeds[0])
    report = poller.poll(project, project.feeds[0])
    assert report.outcome == "not-modified"
    assert server.asked("/lm.xml")[1]["if-modified-since"] == stamp


def test_a_feed_is_fetched_again_only_after_its_interval(
    tmp_path: Path, server: FeedServer, run: Run
) -> None:
    project = load_project(write(tmp_path, server, "every: 30m\n"))
    server.docs["/feed.xml"] = Doc(rss(items(1, T0)))
    poller = run.poller()
    assert len(poller.poll_due(project)) == 1
    run.clock.advance(timedelta(minutes=29))
    assert poller.poll_due(project) == []
    run.clock.advance(timedelta(minutes=1))
    assert len(poller.poll_due(project)) == 1


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        (Doc(b"<rss><channel><item><title>cut"), "not a well-formed feed (line 1, column 31"),
        (Doc(b"<?xml version='1.0'?>\n<rss>\n<oops"), "not a well-formed feed (line 3, column"),
        (Doc(b'{"items": [}', content_type="application/json"), "not a well-formed JSON Feed"),
        (Doc(b'{"items": []}', content_type="application/json"), "not a JSON Feed (no version"),
        (Doc(b"<?xml version='1.0'?><html-ish/>"), "not an RSS or Atom feed"),
        (
            Doc(
                b'<!DOCTYPE html><html><head><link rel="alternate" '
                b'type="application/rss+xml" href="/real.xml"></head></html>',
                content_type="text/html",
            ),
            "an HTML page, not a feed (the page names a feed: http://127.0.0.1:",
        ),
        (Doc(b"", status=404), "HTTP 404"),
        (Doc(b"x" * 64, content_type="application/rss+xml"), "not a well-formed feed (line 1"),
    ],
)
def test_a_broken_feed_posts_nothing_says_why_and_the_next_good_fetch_works(
    tmp_path: Path, server: FeedServer, run: Run, doc: Doc, reason: str
) -> None:
    write(tmp_path, server, "since: 2020-01-01\n")
    server.docs["/feed.xml"] = doc
    project = load_project(tmp_path / "schedule.yaml")
    report = run.poller().poll(project, project.feeds[0])
    assert report.outcome == "failed" and report.planned == []
    assert report.error is not None and report.error.startswith(server.url("/feed.xml"))
    assert reason in report.error
    assert feed_states(run.store)["blog"].error == report.error
    server.docs["/feed.xml"] = Doc(rss(items(1, T0)), etag='"good"')
    assert run.fetch() == ["post 0"]
    assert feed_states(run.store)["blog"].error is None


def test_a_redirect_loop_is_an_error(tmp_path: Path, server: FeedServer, run: Run) -> None:
    write(tmp_path, server, path="/loop")
    server.docs["/loop"] = Doc(location="/loop")
    project = load_project(tmp_path / "schedule.yaml")
    report = run.poller().poll(project, project.feeds[0])
    assert report.error and "more than 5 redirects (a loop?)" in report.error


@pytest.mark.parametrize("declared", [True, False])
def test_a_feed_too_large_is_an_error_whether_or_not_it_says_its_size(
    tmp_path: Path, server: FeedServer, run: Run, declared: bool
) -> None:
    write(tmp_path, server, "since: 2020-01-01\n")
    server.docs["/feed.xml"] = Doc(rss(items(300, T0)), declare_length=declared)
    project = load_project(tmp_path / "schedule.yaml")
    poller = FeedPoller(
        run.store, run.clock, fetch=lambda url, e, m: fetch_feed(url, e, m, max_bytes=10_000)
    )
    report = poller.poll(project, project.feeds[0])
    assert report.error is not None and report.planned == []
    size = "bytes, more than the 10000 bytes allowed" if declared else "larger than the 10000"
    assert size in report.error


def test_a_feed_that_left_the_schedule_has_its_planned_posts_cancelled(
    tmp_path: Path, server: FeedServer, run: Run, platform: FakePlatform
) -> None:
    write(tmp_path, server, "since: 2020-01-01\n")
    server.docs["/feed.xml"] = Doc(rss(items(1, T0)))
    assert run.fetch() == ["post 0"]
    write(tmp_path, server, "since: 2020-01-01\nenabled: false\n")
    run.daemon().run_once()
    assert platform.published() == []
    rows = run.store.publications()
    assert {r.status for r in rows} == {Status.CANCELLED}


@pytest.mark.parametrize(
    ("policy", "late", "sent"),
    [
        ("missed: skip\n", timedelta(minutes=10), False),
        ("missed: publish\ngrace: 1h\n", timedelta(minutes=50), True),
        ("missed: publish\ngrace: 1h\n", timedelta(minutes=70), False),
    ],
)
def test_posts_of_a_fetch_that_go_out_late_follow_missed_and_grace(
    tmp_path: Path,
    server: FeedServer,
    run: Run,
    platform: FakePlatform,
    policy: str,
    late: timedelta,
    sent: bool,
) -> None:
    write(tmp_path, server, "since: 2020-01-01\n" + policy)
    server.docs["/feed.xml"] = Doc(rss(items(1, T0)), etag='"1"')
    assert run.fetch() == ["post 0"]  # crosspost feeds fetch, and no daemon running
    run.clock.advance(late)
    run.daemon().run_once()
    assert len(platform.published()) == (2 if sent else 0)
    expected = Status.PUBLISHED if sent else Status.MISSED
    assert {r.status for r in run.store.publications()} == {expected}
