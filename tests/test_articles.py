"""Articles: whole on long-form accounts, announced elsewhere once their URL is known."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.base import Transient
from crosspost.errors import ConfigError
from crosspost.loading.project import Project, load_project
from crosspost.publishing.publisher import Publisher
from crosspost.rendering.articles import WAIT_POLL
from crosspost.status import Status
from crosspost.store import Ended, PlannedRow, Publication, Store
from tests.fakes import FakeClock, FakePlatform, LongFormFakeConnector, install

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ARTICLE = """\
- id: guide
  kind: article
  title: The laser cutter guide
  summary: How to book and use the cutter.
  link: https://makerspace.example/guide
  tags: [laser, how to]
  body: |
    The **whole** guide, with [a link](https://example.org/a).

    And a second paragraph.
"""


def schedule(content: str = ARTICLE, to: str = "[social, blog, archive]") -> str:
    return (
        "timezone: UTC\n"
        "accounts:\n"
        "  social: {connector: fake}\n"
        "  blog: {connector: fake-longform}\n"
        "  archive: {connector: fake-longform}\n"
        "content:\n" + textwrap.indent(content, "  ") + "posts:\n"
        f"  - {{id: launch, content: guide, to: {to}, at: 2026-03-01 12:00}}\n"
    )


class World:
    """An article entry to a short account and two long-form ones, a store, a fake clock."""

    def __init__(self, tmp_path: Path, platform: FakePlatform, text: str) -> None:
        self.platform = platform
        (tmp_path / "schedule.yaml").write_text(text, encoding="utf-8")
        self.project: Project = load_project(tmp_path / "schedule.yaml")
        self.store = Store(f"sqlite:///{tmp_path}/x.db")
        self.clock = FakeClock(T0)
        self.publisher = Publisher(self.store, self.project, clock=self.clock, max_attempts=2)

    def plan(self, *accounts: str, grace: timedelta = timedelta(hours=1)) -> None:
        rows = [PlannedRow("launch", "o1", a, "guide", T0, T0 + grace) for a in accounts]
        self.store.add_planned(rows, T0)

    def row(self, account: str) -> Publication:
        found = self.store.find("launch", "o1", account)
        assert found is not None
        return found

    def claim(self, account: str) -> Publication:
        row = self.store.claim(
            self.row(account).id or 0, self.publisher.worker_id, self.publisher.lease, T0
        )
        assert row is not None
        return row


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    made = World(tmp_path, install(monkeypatch), schedule())
    yield made  # type: ignore[misc]
    made.store.close()


def utc(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def test_long_form_accounts_get_the_whole_article_and_short_ones_an_announcement(
    world: World,
) -> None:
    world.plan("social", "blog", "archive")
    outcomes = world.publisher.run_due()
    assert {o.account: o.status for o in outcomes} == {
        "blog": "published",
        "archive": "published",
        "social": "published",
    }
    (whole, _) = LongFormFakeConnector.received
    assert whole.title == "The laser cutter guide"
    # the whole body, as the platform's form writes it (the fake's is plain text)
    assert whole.text == (
        "The whole guide, with a link (https://example.org/a).\n\nAnd a second paragraph."
    )
    assert whole.article is not None
    assert whole.article.summary == "How to book and use the cutter."
    assert whole.article.tags == ("laser", "how to")
    (social,) = world.platform.published("social")
    blog_url = world.row("blog").url
    assert blog_url
    assert social.text.splitlines()[0] == "The laser cutter guide"
    assert "How to book and use the cutter." in social.text
    assert f"{blog_url}?utm_source=fake" in social.text  # the first long-form account in to:
    assert "whole guide" not in social.text


def test_an_announcement_waits_for_its_article_and_is_woken_when_it_is_recorded(
    world: World,
) -> None:
    world.plan("social", "blog")
    waiting = world.publisher.publish_row(world.claim("social"))
    assert waiting.status == Status.PLANNED
    row = world.row("social")
    assert row.waits_for == "blog"
    assert row.error and "waiting for blog to publish the article" in row.error
    assert row.attempts == 0  # a wait is not a try
    assert utc(row.next_attempt_at) == T0 + WAIT_POLL
    assert utc(row.expires_at) == T0 + WAIT_POLL + timedelta(hours=1)  # grace from the look
    assert world.platform.calls == []

    assert world.publisher.publish_row(world.claim("blog")).status == Status.PUBLISHED
    assert utc(world.row("social").next_attempt_at) == T0  # woken: due now, not in a minute
    (outcome,) = world.publisher.run_due()
    assert outcome.account == "social" and outcome.status == Status.PUBLISHED
    assert world.row("blog").url in world.platform.published("social")[0].text  # type: ignore[operator]


def test_a_waiting_announcement_is_not_missed_while_crosspost_runs(world: World) -> None:
    world.plan("social", "blog", grace=timedelta(minutes=2))
    world.publisher.publish_row(world.claim("social"))
    world.platform.script("blog", Transient("down"))
    world.publisher.publish_row(world.claim("blog"))  # retried later
    for _ in range(10):  # ten minutes of looking, each past the first grace
        world.clock.advance(WAIT_POLL)
        world.publisher.run_due()
    assert world.row("social").status == Status.PUBLISHED
    assert world.row("blog").status == Status.PUBLISHED


def test_run_due_sends_the_article_before_its_announcement(world: World) -> None:
    world.plan("social", "blog", "archive")
    outcomes = world.publisher.run_due()
    assert [o.account for o in outcomes][-1] == "social"
    assert all(o.status == Status.PUBLISHED for o in outcomes)
    assert world.row("social").waits_for is None


@pytest.mark.parametrize("status", [Status.FAILED, Status.MISSED, Status.CANCELLED])
def test_an_article_that_did_not_go_out_is_announced_with_its_link(
    world: World, status: Status
) -> None:
    world.plan("social", "blog")
    world.store.resolve(world.row("blog").id or 0, T0, Ended(status, "refused"))  # type: ignore[arg-type]
    assert world.publisher.publish_row(world.claim("social")).status == Status.PUBLISHED
    (social,) = world.platform.published("social")
    assert "https://makerspace.example/guide?utm_source=fake" in social.text


def test_without_a_link_either_the_announcement_fails_saying_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = ARTICLE.replace("  link: https://makerspace.example/guide\n", "")
    made = World(tmp_path, install(monkeypatch), schedule(content))
    made.plan("social", "blog")
    made.store.resolve(made.row("blog").id or 0, T0, Ended(Status.FAILED, "title too long"))
    outcome = made.publisher.publish_row(made.claim("social"))
    assert outcome.status == Status.FAILED
    assert outcome.error == (
        "nothing to link to: the article did not go out on blog (it is failed: title too "
        "long), and it has no canonical_url or link to announce instead"
    )
    assert made.platform.calls == []
    made.store.close()


def test_an_unknown_article_keeps_its_announcement_waiting(world: World) -> None:
    world.plan("social", "blog")
    world.store.resolve(world.row("blog").id or 0, T0, Ended(Status.UNKNOWN, "timeout"))
    assert world.publisher.publish_row(world.claim("social")).status == Status.PLANNED
    assert world.row("social").waits_for == "blog"


def test_a_canonical_url_is_announced_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = ARTICLE.replace("  link:", "  canonical_url: https://blog.example/guide\n  link:")
    made = World(tmp_path, install(monkeypatch), schedule(content, "[social, blog]"))
    made.plan("social", "blog")
    assert made.publisher.publish_row(made.claim("social")).status == Status.PUBLISHED
    (social,) = made.platform.published("social")
    assert "https://blog.example/guide?utm_source=fake" in social.text
    made.publisher.publish_row(made.claim("blog"))
    (whole,) = LongFormFakeConnector.received
    assert whole.link == "https://blog.example/guide"  # canonical: never tagged
    assert whole.article is not None and whole.article.canonical_url == whole.link
    made.store.close()


def test_posts_that_are_not_articles_never_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = "- {id: guide, title: Hi, body: Just a post.}\n"
    made = World(tmp_path, install(monkeypatch), schedule(content))
    made.plan("social", "blog")
    assert made.publisher.publish_row(made.claim("social")).status == Status.PUBLISHED
    assert made.platform.published("social")[0].text == "Just a post."
    made.store.close()


# --------------------------------------------------------------------------- content


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("- {id: guide, kind: article, body: x}\n", "content.0.kind: "),
        ("- {id: guide, title: T, canonical_url: ftp://x}\n", "content.0.canonical_url: "),
        ("- {id: guide, title: T, cover: {alt: x}}\n", "content.0.cover: "),
        ("- {id: guide, kind: longread, title: T}\n", "content.0.kind: "),
    ],
)
def test_bad_article_fields_are_refused_at_their_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, item: str, expected: str
) -> None:
    install(monkeypatch)
    (tmp_path / "schedule.yaml").write_text(schedule(item), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_project(tmp_path / "schedule.yaml")
    (problem,) = caught.value.problems
    assert problem.line == 7
    assert problem.message.startswith(expected), problem.message


def test_an_unknown_announcement_template_is_refused_where_it_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(monkeypatch)
    content = ARTICLE + "  announcement_template: teasr\n"
    (tmp_path / "schedule.yaml").write_text(schedule(content), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_project(tmp_path / "schedule.yaml")
    (problem,) = caught.value.problems
    assert problem.line == 17
    assert 'announcement_template: unknown template "teasr"' in problem.message
