"""``crosspost report`` figures, CSV/JSON schema, and ``crosspost conversions import``.

The figures are checked against a fixture small enough to compute by hand;
every expected number below has its arithmetic next to it.
"""

from __future__ import annotations

import csv
import io
import json
import re
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
import pytest
from click.testing import CliRunner, Result
from sqlmodel import Session, col, select

from crosspost.cli import _App
from crosspost.cli.context import AppContext
from crosspost.cli.conversions import conversions, import_conversions, read_conversions
from crosspost.cli.report import report
from crosspost.errors import ConfigError
from crosspost.report_rows import ConversionRow
from crosspost.reporting.posting_times import median_range
from crosspost.reporting.report_csv import to_csv, write_csv_dir
from crosspost.reporting.report_figures import Report, ReportQuery
from crosspost.reporting.report_html import to_html
from crosspost.reporting.report_json import COLUMNS, report_data
from crosspost.reporting.report_period import parse_since, parse_until
from crosspost.status import Status
from crosspost.store import AccountSnapshot, Ended, MetricSnapshot, PlannedRow, Sent, Store
from crosspost.store.conversions import upsert_conversions
from crosspost.store.models import Conversion, FollowerEvent, Interaction
from tests.report_sources import built_both_ways

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs" / "report-formats.md"
SINCE = datetime(2024, 3, 4, tzinfo=UTC)  # a Monday
UNTIL = datetime(2024, 3, 18, tzinfo=UTC)  # two ISO weeks later


def at(day: int, hour: int = 0, minute: int = 0, month: int = 3) -> datetime:
    """A moment in 2024, UTC."""
    return datetime(2024, month, day, hour, minute, tzinfo=UTC)


class Builder:
    """Writes report fixtures through the store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.count = 0

    def post(
        self, account: str, entry: str, content: str, published: datetime, status: str = "published"
    ) -> int:
        self.count += 1
        row = PlannedRow(entry, f"occ-{self.count}", account, content, published, published)
        created = self.store.add_oneoff(row, now=published)
        assert created is not None and created.id is not None
        sent = Sent(f"r{self.count}", f"https://example.org/{self.count}", published)
        decision = sent if status == "published" else Ended(Status(status), "refused")  # type: ignore[arg-type]
        self.store.resolve(created.id, published, decision)
        return created.id

    def metrics(self, publication: int, collected: datetime, **counts: Any) -> None:
        self.store.add_snapshot(
            MetricSnapshot(publication_id=publication, collected_at=collected, **counts)
        )

    def followers(self, account: str, collected: datetime, followers: int) -> None:
        self.store.add_snapshot(
            AccountSnapshot(account=account, collected_at=collected, followers=followers)
        )

    def add(self, *rows: Any) -> None:
        with Session(self.store.engine) as session:
            session.add_all(rows)
            session.commit()

    def events(self, account: str, kind: str, observed: datetime, count: int) -> None:
        self.add(
            *(
                FollowerEvent(
                    account=account,
                    follower_id=f"{kind}-{observed}-{i}",
                    kind=kind,
                    observed_at=observed,
                )
                for i in range(count)
            )
        )

    def said(self, account: str, platform: str, kind: str, author: str, when: datetime) -> None:
        self.count += 1
        self.add(
            Interaction(
                account=account,
                platform=platform,
                remote_id=f"i{self.count}",
                kind=kind,
                author=author,
                created_at=when,
                collected_at=when,
            )
        )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'report.db'}")


@pytest.fixture
def fixture(store: Store) -> dict[str, int]:
    """Two accounts over two weeks; returns publication ids by name."""
    b = Builder(store)
    for moment, count in ((at(1), 1000), (at(5, 12), 1010), (at(12), 1040), (at(20), 2000)):
        b.followers("masto", moment, count)
    b.followers("sky", at(6), 500)
    b.followers("sky", at(10), 520)
    b.events("masto", "join", at(6), 60)
    b.events("masto", "leave", at(8), 20)
    b.events("masto", "leave", at(3), 5)  # before the period
    b.events("masto", "join", at(18), 9)  # after it
    ids = {
        "p1": b.post("masto", "launch", "launch-post", at(5, 10)),
        "p2": b.post("sky", "launch", "launch-post", at(5, 10)),
        "p3": b.post("masto", "tips", "tip-1", at(12, 18)),
        "p4": b.post("masto", "old", "old-post", at(27, 10, 15, month=2)),
        "p5": b.post("masto", "tips", "tip-2", at(13, 9), status="failed"),
        "p6": b.post("sky", "tips", "tip-1", at(13, 9)),
    }
    b.metrics(ids["p1"], at(5, 16), likes=10, reposts=2, replies=3, quotes=0)
    b.metrics(
        ids["p1"], at(6, 16), likes=30, reposts=5, replies=4, quotes=1, views=900, bookmarks=2
    )
    b.metrics(ids["p2"], at(6, 10), likes=8, reposts=2)
    b.metrics(ids["p3"], at(12, 19), likes=5)
    b.metrics(ids["p4"], at(28, month=2), likes=7)
    for who, kind, platform, when in [
        ("alice", "mention", "mastodon", at(4, 9)),
        ("bob", "reply", "mastodon", at(5)),
        ("alice", "reply", "mastodon", at(10, 23)),
        ("alice", "mention", "bluesky", at(7)),
        ("carol", "quote", "mastodon", at(11)),
        ("carol", "reply", "mastodon", at(12)),
        ("dave", "reply", "mastodon", at(13)),
        ("erin", "mention", "mastodon", at(14)),
        ("erin", "mention", "mastodon", at(15)),
        ("bob", "mention", "mastodon", at(17, 23)),
        ("zed", "mention", "mastodon", at(3)),  # before the period
    ]:
        b.said("sky" if platform == "bluesky" else "masto", platform, kind, who, when)
    upsert_conversions(
        store,
        [
            ConversionRow("launch", "launch-post", "mastodon", "2024-03-05", 3, 50),
            ConversionRow("launch", "launch-post", "", "2024-03-06", 1),
            ConversionRow("launch", "launch-post", "bluesky", "2024-03-06", 2),
            ConversionRow("tips", "tip-1", "x", "2024-03-13", 7),
        ],
        "ga.csv",
        at(18),
    )
    return ids


def query(zone: str = "UTC", **changes: Any) -> ReportQuery:
    base: dict[str, Any] = dict(
        since=SINCE,
        until=UNTIL,
        accounts={"masto": "mastodon", "sky": "bluesky"},
        timezone=ZoneInfo(zone),
        exact_followers=frozenset({"masto"}),
        min_posts=2,
        top=1,
        min_slot_posts=1,  # a fixture small enough to compute by hand
    )
    return ReportQuery(**{**base, **changes})


def made(store: Store, **changes: Any) -> Report:
    return built_both_ways(store, query(**changes), at(18, 12))


# --------------------------------------------------------------------------- figures


def test_per_post_figures(store: Store, fixture: dict[str, int]) -> None:
    posts = {p.publication_id: p for p in made(store).posts}
    assert set(posts) == {fixture[n] for n in ("p1", "p2", "p3", "p6")}  # p4 early, p5 failed
    p1, p2, p3, p6 = (posts[fixture[n]] for n in ("p1", "p2", "p3", "p6"))
    assert (p1.likes, p1.reposts, p1.replies, p1.quotes, p1.views, p1.bookmarks) == (
        30,
        5,
        4,
        1,
        900,
        2,
    )
    assert p1.reactions == 40  # 30 + 5 + 4 + 1, views and bookmarks are not reactions
    assert p1.followers_at_publish == 1000  # the 12:00 snapshot of that day came later
    assert p1.engagement_rate == pytest.approx(0.04)  # 40 / 1000
    assert p1.velocity_24h == pytest.approx(2.5)  # 15 reactions at +6 h
    assert (p1.conversions, p1.clicks) == (4, 50)  # 3 tagged mastodon + 1 untagged
    assert p2.followers_at_publish is None and p2.engagement_rate is None
    assert p2.velocity_24h == pytest.approx(10 / 24)  # the +24 h snapshot counts
    assert (p2.conversions, p2.clicks) == (3, None)  # 2 tagged bluesky + 1 untagged
    assert p3.engagement_rate == pytest.approx(5 / 1040)
    assert p3.velocity_24h == pytest.approx(5.0) and p3.conversions == 0  # "x" is not ours
    assert p6.reactions is None and p6.velocity_24h is None


def test_top_and_bottom_posts(store: Store, fixture: dict[str, int]) -> None:
    result = made(store)
    assert [(r.rank, r.post.publication_id) for r in result.top_posts] == [(1, fixture["p1"])]
    assert [(r.rank, r.post.publication_id) for r in result.bottom_posts] == [(1, fixture["p3"])]


def test_account_growth_and_churn(store: Store, fixture: dict[str, int]) -> None:
    masto, sky = made(store).accounts
    assert (masto.followers_start, masto.followers_end, masto.net_growth) == (1000, 1040, 40)
    assert (masto.joins, masto.leaves) == (60, 20)  # events outside the period not counted
    assert masto.churn_rate == pytest.approx(0.02)  # 20 leaves / 1000 at the start
    assert (masto.posts_published, masto.reactions, masto.conversions) == (2, 45, 4)
    assert masto.reactions_per_post == pytest.approx(22.5)
    # No snapshot before the period: the first one in it is the start. No follower list:
    # joins, leaves and churn are unknown rather than zero.
    assert (sky.followers_start, sky.followers_end, sky.net_growth) == (500, 520, 20)
    assert (sky.joins, sky.leaves, sky.churn_rate) == (None, None, None)
    assert (sky.posts_published, sky.reactions, sky.reactions_per_post) == (2, 10, 10.0)


def test_follower_series_starts_at_the_period(store: Store, fixture: dict[str, int]) -> None:
    series = [(s.account, s.collected_at, s.followers) for s in made(store).followers]
    assert series == [
        ("masto", at(1), 1000),
        ("masto", at(5, 12), 1010),
        ("masto", at(12), 1040),
        ("sky", at(6), 500),
        ("sky", at(10), 520),
    ]


def test_weekly_member_content(store: Store, fixture: dict[str, int]) -> None:
    w10, w11 = made(store).community
    assert (w10.week, str(w10.week_start)) == ("2024-W10", "2024-03-04")
    assert (w10.mentions, w10.replies, w10.other, w10.total) == (2, 2, 0, 4)
    assert w10.distinct_authors == 3  # alice on mastodon, bob, alice on bluesky
    assert w10.growth is None
    assert (w11.mentions, w11.replies, w11.other, w11.total) == (3, 2, 1, 6)
    assert w11.distinct_authors == 4  # carol, dave, erin, bob
    assert w11.growth == pytest.approx(0.5)  # (6 - 4) / 4


def test_weeks_follow_the_schedule_zone(store: Store, fixture: dict[str, int]) -> None:
    # 23:00 UTC on Sunday 17 March is Monday 01:00 in Kyiv: bob's mention moves to W12.
    weeks = {w.week: w.total for w in made(store, zone="Europe/Kyiv").community}
    assert weeks == {"2024-W10": 3, "2024-W11": 6, "2024-W12": 1}


def test_when_to_post_reads_only_the_period(store: Store, fixture: dict[str, int]) -> None:
    sky, masto = made(store, min_posts=2, min_slot_posts=1).when_to_post
    assert (sky.platform, sky.enough_data, sky.message) == (
        "bluesky",
        False,
        "not enough data yet (1 post with reactions, 2 needed)",
    )
    assert masto.enough_data and masto.posts == 2  # p1 and p3; p4 is before --since
    cells = {(c.weekday, c.hour): (c.posts, c.median_reactions) for c in masto.cells}
    assert cells == {(2, 10): (1, 40.0), (2, 18): (1, 5.0)}
    kyiv = made(store, zone="Europe/Kyiv", min_posts=2, min_slot_posts=1).when_to_post[1]
    assert {(c.weekday, c.hour) for c in kyiv.cells} == {(2, 12), (2, 20)}  # UTC+2 in March
    wider = made(store, since=at(20, month=2), min_posts=2, min_slot_posts=1).when_to_post[1]
    assert wider.posts == 3  # p4 comes in with an earlier --since
    assert {(c.weekday, c.hour): c.posts for c in wider.cells}[(2, 10)] == 2


def test_when_to_post_needs_enough_posts_per_slot(store: Store) -> None:
    """Five posts in one slot make advice; slots with fewer are left out, not shown."""
    b = Builder(store)
    tuesday_evening = [at(5, 18), at(12, 18), at(5, 18, 30), at(12, 18, 20), at(5, 18, 40)]
    for n, moment in enumerate(tuesday_evening):
        b.metrics(b.post("masto", "e", f"c{n}", moment), moment + timedelta(hours=2), likes=20 + n)
    for n in range(10):  # one post per slot elsewhere: 10 slots of one post each
        moment = at(6 + n % 5, n)
        b.metrics(b.post("masto", "e", f"d{n}", moment), moment + timedelta(hours=1), likes=10)
    (times,) = made(
        store, accounts={"masto": "mastodon"}, min_posts=5, min_slot_posts=5
    ).when_to_post
    assert times.enough_data and times.posts == 15
    (cell,) = times.cells  # never a cell of one post
    assert (cell.weekday, cell.hour, cell.posts, cell.median_reactions) == (2, 18, 5, 22.0)
    assert cell.ratio == pytest.approx(22 / 10)  # the platform's median is 10
    assert (cell.ratio_low, cell.ratio_high) == (pytest.approx(2.0), pytest.approx(2.4))
    assert times.advice == (
        "Tuesdays 18:00–19:00 got 2.2× the median reactions (range 2.0–2.4×), 5 posts"
    )
    few = made(store, accounts={"masto": "mastodon"}, min_posts=5, min_slot_posts=6)
    assert not few.when_to_post[0].enough_data and few.when_to_post[0].cells == ()
    assert "no weekday × hour with 6 or more" in few.when_to_post[0].message


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1, 2, 3, 4, 5], (1, 5)),  # too few for 95 %: the whole range
        (list(range(1, 11)), (2, 9)),  # n = 10: x(2)..x(9)
        (list(range(1, 15)), (3, 12)),  # n = 14: x(3)..x(12)
        (list(range(1, 21)), (6, 15)),  # n = 20: x(6)..x(15)
        ([7], (7, 7)),
    ],
)
def test_median_range_uses_binomial_order_statistics(
    values: list[int], expected: tuple[int, int]
) -> None:
    assert median_range(values) == expected


def test_filters_limit_every_section(store: Store, fixture: dict[str, int]) -> None:
    result = made(store, accounts={"sky": "bluesky"}, exact_followers=frozenset())
    assert {p.account for p in result.posts} == {"sky"}
    assert [a.account for a in result.accounts] == ["sky"]
    assert sum(w.total for w in result.community) == 1


def test_period_parsing() -> None:
    now, kyiv = at(18, 12), ZoneInfo("Europe/Kyiv")
    assert parse_since("30d", kyiv, now) == now - timedelta(days=30)
    assert parse_since("2024-03-01", kyiv, now) == datetime(2024, 2, 29, 22, tzinfo=UTC)
    assert parse_until("2024-03-10", kyiv, now) == datetime(2024, 3, 10, 22, tzinfo=UTC)
    assert parse_until(None, kyiv, now) == now
    with pytest.raises(ValueError, match="neither a duration"):
        parse_since("last month", kyiv, now)


# --------------------------------------------------------------------------- formats


def documented() -> dict[str, list[str]]:
    """Section → column names, read from the tables of docs/report-formats.md."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        if match := re.match(r"^### `(\w+)`", line):
            current = match.group(1)
            sections[current] = []
        elif current and (match := re.match(r"^\| `(\w+)` \|", line)):
            sections[current].append(match.group(1))
    return sections


def test_documented_columns_are_the_csv_columns(
    store: Store, fixture: dict[str, int], tmp_path: Path
) -> None:
    assert documented() == {name: list(columns) for name, columns in COLUMNS.items()}
    for path in write_csv_dir(made(store), tmp_path / "csv"):
        with path.open(encoding="utf-8") as handle:
            assert next(csv.reader(handle)) == list(COLUMNS[path.stem])
    rows = list(csv.DictReader(io.StringIO(to_csv(made(store)))))
    assert rows[0]["section"] == "meta"
    assert {r["section"] for r in rows} == set(COLUMNS)
    launch = next(r for r in rows if r["section"] == "posts" and r["account"] == "masto")
    assert (launch["reactions"], launch["engagement_rate"], launch["published_at"]) == (
        "40",
        "0.04",
        "2024-03-05T10:00:00Z",
    )


def test_json_keys_and_types(store: Store, fixture: dict[str, int]) -> None:
    data = json.loads(json.dumps(report_data(made(store))))
    assert list(data) == [
        "report_version",
        "generated_at",
        "since",
        "until",
        "timezone",
        "filters",
        "posts",
        "top_posts",
        "bottom_posts",
        "accounts",
        "followers",
        "community",
        "when_to_post",
        "responses",
    ]
    for section in ("posts", "top_posts", "bottom_posts", "accounts", "followers", "community"):
        for item in data[section]:
            assert list(item) == list(COLUMNS[section])
    for times in data["when_to_post"]:
        assert list(times) == [*COLUMNS["when_to_post_status"], "cells"]
        for cell in times["cells"]:
            assert list(cell) == list(COLUMNS["when_to_post"][1:])
    masto = data["accounts"][0]
    assert masto["churn_rate"] == 0.02 and isinstance(masto["followers_start"], int)
    assert data["since"] == "2024-03-04T00:00:00Z"
    assert data["community"][1]["week_start"] == "2024-03-11"


def test_html_is_self_contained_and_escaped(store: Store, fixture: dict[str, int]) -> None:
    Builder(store).post("masto", "x", "<script>alert(1)</script>", at(14))
    page = to_html(made(store))
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert not re.search(r"<script|\bsrc\s*=|@import|url\(", page)
    # The only links are plain anchors to the posts themselves: nothing is fetched.
    links = re.findall(r"<(\w+)[^>]*\bhref=\"([^\"]*)\"", page)
    assert links and all(tag == "a" and url.startswith("https://") for tag, url in links)
    assert 'id="followers-chart"' in page and 'id="reactions-chart"' in page
    assert 'id="heatmap-mastodon"' in page
    assert "not enough data yet (1 post with reactions, 2 needed)" in page


# --------------------------------------------------------------------------- CLI


SCHEDULE = """
timezone: UTC
accounts:
  website-feed:
    connector: feed
    path: public/feed.xml
    title: News
    link: https://example.org
  archive:
    connector: folder
    path: public/posts
"""


@pytest.fixture
def project(tmp_path: Path) -> AppContext:
    path = tmp_path / "schedule.yaml"
    path.write_text(textwrap.dedent(SCHEDULE), encoding="utf-8")
    return AppContext(path, f"sqlite:///{tmp_path / 'cli.db'}")


def invoke(app: AppContext, *args: str) -> Result:
    group = _App("crosspost", commands=[report, conversions])
    return CliRunner().invoke(group, list(args), obj=app)


def test_report_command_writes_every_format(project: AppContext, tmp_path: Path) -> None:
    store = project.store()
    b = Builder(store)
    post = b.post("website-feed", "launch", "hello", datetime.now(UTC) - timedelta(days=2))
    b.metrics(post, datetime.now(UTC) - timedelta(days=1), likes=3)
    store.close()
    result = invoke(project, "report", "--format", "json", "--output", str(tmp_path / "r.json"))
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert [p["reactions"] for p in data["posts"]] == [3]
    assert [a["account"] for a in data["accounts"]] == ["archive", "website-feed"]
    table = invoke(project, "report", "--account", "website-feed")
    assert table.exit_code == 0 and "Accounts" in table.output
    assert (
        "When to post on feed: not enough data yet (1 post with reactions, 20 needed)"
        in table.output
    )
    (tmp_path / "csv").mkdir()
    result = invoke(project, "report", "--format", "csv", "--output", str(tmp_path / "csv"))
    assert result.exit_code == 0 and (tmp_path / "csv" / "posts.csv").is_file()
    page = invoke(project, "report", "--format", "html", "--platform", "feed")
    assert page.exit_code == 0 and page.output.startswith("<!DOCTYPE html>")


def test_output_folder_that_does_not_exist_is_an_error(project: AppContext, tmp_path: Path) -> None:
    for fmt in ("html", "json", "csv", "table"):
        result = invoke(project, "report", "--format", fmt, "--output", f"{tmp_path}/missing/")
        assert result.exit_code == 2, result.output
        (line,) = [x for x in result.output.splitlines() if "missing" in x]
        assert "--output" in line and "does not exist" in line
        assert "Traceback" not in result.output
    assert not (tmp_path / "missing").exists()


def test_output_existing_folder_gets_a_default_name(project: AppContext, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    for fmt, name in (("html", "report.html"), ("json", "report.json"), ("table", "report.txt")):
        result = invoke(project, "report", "--format", fmt, "--output", f"{folder}/")
        assert result.exit_code == 0, result.output
        assert (folder / name).is_file() and (folder / name).stat().st_size > 0
    result = invoke(project, "report", "--format", "csv", "--output", str(folder))
    assert result.exit_code == 0 and (folder / "posts.csv").is_file()


def test_posts_option_pages_the_table_but_not_json(project: AppContext, tmp_path: Path) -> None:
    store = project.store()
    b = Builder(store)
    now = datetime.now(UTC)
    for n in range(4):
        made_at = now - timedelta(days=3, hours=n)
        b.metrics(b.post("archive", "e", f"c{n}", made_at), made_at + timedelta(hours=1), likes=n)
    store.close()
    table = invoke(project, "report", "--posts", "2")
    assert table.exit_code == 0, table.output
    assert "Posts (2 of 4 with the most reactions; CSV and JSON list all)" in table.output
    assert table.output.splitlines()[0].endswith(" UTC")  # the heading names the zone
    page = invoke(project, "report", "--format", "html", "--posts", "1")
    posts_table = re.search(r'<table id="posts-table">.*?</table>', page.output, re.S)
    assert posts_table and posts_table.group(0).count('data-field="title"') == 1
    data = json.loads(invoke(project, "report", "--format", "json", "--posts", "1").output)
    assert len(data["posts"]) == 4


def test_posts_are_named_by_their_content_title(store: Store, fixture: dict[str, int]) -> None:
    result = made(store, titles={"launch-post": "crosspost 1.0 is out"})
    names = {p.content: p.title for p in result.posts}
    assert names == {"launch-post": "crosspost 1.0 is out", "tip-1": "tip-1"}
    assert report_data(result)["posts"][0]["title"] == "crosspost 1.0 is out"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "last week"], "neither a duration"),
        (["--until", "tomorrow"], "is not a date"),
        (["--since", "2024-03-10", "--until", "2024-03-01"], "the period is empty"),
        (["--account", "archiv"], 'did you mean "archive"'),
        (["--platform", "mastodon"], "unknown platform"),
    ],
)
def test_report_bad_options_exit_2(project: AppContext, args: list[str], message: str) -> None:
    result = invoke(project, "report", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_report_help_has_an_example(project: AppContext) -> None:
    assert "Example: crosspost report" in invoke(project, "report", "--help").output
    assert (
        "Example: crosspost conversions import"
        in invoke(project, "conversions", "import", "--help").output
    )


# --------------------------------------------------------------------------- conversions


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def stored(store: Store) -> list[tuple[str, str, str, str, int, int | None, float | None]]:
    with Session(store.engine) as session:
        rows = session.exec(
            select(Conversion).order_by(col(Conversion.campaign), col(Conversion.day))
        ).all()
        return [
            (r.campaign, r.content, r.source, r.day, r.conversions, r.clicks, r.value) for r in rows
        ]


def test_import_accepts_aliases(tmp_path: Path, store: Store) -> None:
    path = write(
        tmp_path / "ga.csv",
        """
        Session Campaign;Content;Source;Date;Goal Completions;Clicks;Revenue;Country
        launch;launch-post;mastodon;20240305;3;50;12.5;UA
        launch;launch-post;mastodon;20240305;2;10;;PL
        tips;;;;1;;;UA
    """,
    )
    assert import_conversions(store, path, at(18)) == (2, 2, 0)  # two UA/PL rows added up
    assert stored(store) == [
        ("launch", "launch-post", "mastodon", "2024-03-05", 5, 60, 12.5),
        ("tips", "", "", "", 1, None, None),
    ]


def test_reimport_replaces_instead_of_adding(tmp_path: Path, store: Store) -> None:
    path = write(
        tmp_path / "export.csv",
        """
        utm_campaign,utm_content,utm_source,date,conversions
        launch,launch-post,mastodon,2024-03-05,3
    """,
    )
    assert import_conversions(store, path, at(18)) == (1, 1, 0)
    assert import_conversions(store, path, at(19)) == (1, 0, 1)
    assert [r[4] for r in stored(store)] == [3]
    write(
        path,
        """
        UTM_CAMPAIGN,UTM_CONTENT,UTM_SOURCE,DATE,CONVERSIONS
        launch,launch-post,mastodon,2024-03-05,4
        launch,launch-post,mastodon,2024-03-06,1
    """,
    )
    assert import_conversions(store, path, at(20)) == (2, 1, 1)
    assert [r[4] for r in stored(store)] == [4, 1]


def test_bad_rows_name_line_and_column_and_import_nothing(tmp_path: Path, store: Store) -> None:
    path = write(
        tmp_path / "bad.csv",
        """
        campaign,content,date,conversions,clicks
        launch,a,2024-03-05,3,1
        launch,b,2024-13-01,2,1
        launch,c,2024-03-05,two,1
        ,d,2024-03-05,1,1.5
    """,
    )
    with pytest.raises(ConfigError) as caught:
        import_conversions(store, path, at(18))
    found = [(p.line, p.column, p.message.split(":")[0]) for p in caught.value.problems]
    assert found == [(3, 3, "day"), (4, 4, "conversions"), (5, 1, "campaign"), (5, 5, "clicks")]
    assert "expected a whole number ≥ 0, got 'two'" in str(caught.value)
    assert str(path) in str(caught.value)
    assert stored(store) == []


def test_missing_required_column(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", "utm_source,clicks\nmastodon,3\n")
    with pytest.raises(ConfigError, match=r"x.csv:1:1: missing column.*campaign.*conversions"):
        read_conversions(path)


def test_conversions_import_command(project: AppContext, tmp_path: Path) -> None:
    path = write(tmp_path / "e.csv", "campaign,conversions\nlaunch,2\n")
    result = invoke(project, "conversions", "import", str(path), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"file": str(path), "rows": 1, "inserted": 1, "updated": 0}
    write(path, "campaign,conversions\nlaunch,-1\n")
    result = invoke(project, "conversions", "import", str(path))
    assert result.exit_code == 2
    assert "e.csv:2:2: conversions: expected a whole number" in result.output


def test_click_objects_are_exported() -> None:
    assert isinstance(report, click.Command) and isinstance(conversions, click.Group)
    assert "import" in conversions.commands


def test_plain_format_has_no_borders_and_nothing_cut_at_80_columns(
    project: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = project.store()
    b = Builder(store)
    made_at = datetime.now(UTC) - timedelta(days=2)
    post = b.post("archive", "announcement-of-the-spring-meetup", "spring-meetup", made_at)
    b.metrics(post, made_at + timedelta(hours=1), likes=3)
    store.close()
    monkeypatch.setenv("COLUMNS", "80")
    for fmt in ("table", "plain"):
        result = invoke(project, "report", "--format", fmt)
        assert result.exit_code == 0, result.output
        assert all(len(line) <= 80 for line in result.output.splitlines())
        assert "…" not in result.output  # long cells fold onto more lines instead
    plain = invoke(project, "report", "--format", "plain").output
    assert not set("┃━│─┏┡") & set(plain)


@pytest.mark.parametrize("columns", [80, 200])
def test_the_terminal_report_fits_its_width(project: AppContext, columns: int) -> None:
    """At 80 columns the accounts are turned (a column each) and the post lists keep their
    essential columns, saying once which they left out; wide, every column is there."""
    store = project.store()
    b = Builder(store)
    post = b.post("website-feed", "launch", "hello", datetime.now(UTC) - timedelta(days=2))
    b.metrics(post, datetime.now(UTC) - timedelta(days=1), likes=3)
    store.close()
    group = _App("crosspost", commands=[report, conversions])
    result = CliRunner().invoke(group, ["report"], obj=project, env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= columns
    narrow = columns < 100
    headers = [line for line in lines if "website-feed (feed)" in line]
    assert bool(headers) is narrow  # turned: the account is a column's heading
    assert any("followers at start" in line for line in lines)  # a row, or a whole heading
    left_out = [line for line in lines if line.startswith("Left out at this width")]
    assert len(left_out) == (1 if narrow else 0)
    assert "from Top posts, Posts (1):" in "".join(left_out) or not narrow
    assert "Bottom posts: none besides the top posts" in lines
    assert any("Top posts" == line.strip() for line in lines)  # titles whole, above


def test_no_database_yet_is_an_empty_report_and_creates_none(
    project: AppContext, tmp_path: Path
) -> None:
    result = invoke(project, "report", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["posts"] == []
    assert not (tmp_path / "cli.db").exists()


def test_empty_sections_say_why_instead_of_drawing_a_frame(project: AppContext) -> None:
    store = project.store()
    Builder(store).post("website-feed", "launch", "hello", datetime.now(UTC) - timedelta(days=2))
    store.close()
    group = _App("crosspost", commands=[report, conversions])
    result = CliRunner().invoke(group, ["report"], obj=project, env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "Top posts: none yet: no post of the period has reactions collected" in result.output
    assert not any(line.startswith("Bottom posts") for line in lines)  # nothing to add
    assert any(line.startswith("Posts (1)") for line in lines)  # the post itself is listed
    assert "┃ published" in result.output  # … in a table
