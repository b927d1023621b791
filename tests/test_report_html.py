"""The HTML report in a real browser: Debian's headless Chromium.

Checks that the SVG charts are laid out with non-zero size, that the figures in
the tables are those of the JSON report, and leaves a screenshot in
``test-artifacts/report.png`` (the README's sample comes from there).
Without Chromium the tests skip with the reason, or fail when ``CI=true``.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from crosspost.reporting.report_display import DEFAULT_POSTS_SHOWN, most_reacted
from crosspost.reporting.report_figures import Report, ReportQuery
from crosspost.reporting.report_html import to_html
from crosspost.reporting.report_json import report_data
from crosspost.store import Store
from crosspost.store.conversions import ConversionRow, upsert_conversions
from tests.report_sources import built_both_ways
from tests.test_report import Builder

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"
#: Overridable so that the skip/fail rule itself can be tested on a machine that has it.
CHROMIUM = Path(os.environ.get("CROSSPOST_TEST_CHROMIUM", "/usr/bin/chromium"))
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
]
NOW = datetime(2024, 5, 31, 18, tzinfo=UTC)
ACCOUNTS = {"makerspace@mastodon": "mastodon", "makerspace.bsky": "bluesky"}

#: Injected into a copy of the page only: the report itself has no script.
MEASURE = """
<script>
const found = {};
for (const svg of document.querySelectorAll("svg")) {
  const box = svg.getBoundingClientRect();
  found[svg.id] = {width: box.width, height: box.height, parts: [...svg.querySelectorAll(
    "polyline.series, rect.bar, rect.cell")].map(e => {
      const b = e.getBBox(); return [e.tagName, b.width, b.height]; })};
}
const pre = document.createElement("pre");
pre.id = "geometry";
pre.textContent = JSON.stringify(found);
document.body.appendChild(pre);
</script>
"""


@pytest.fixture(scope="module")
def chromium() -> Path:
    if CHROMIUM.is_file():
        return CHROMIUM
    message = f"Chromium is not installed ({CHROMIUM}): run scripts/install-chromium.sh as root"
    if in_ci(os.environ):
        pytest.fail(message + " (required when CI=true)")
    pytest.skip(message)


def in_ci(environ: Mapping[str, str]) -> bool:
    """True where CI services say so (``CI=true``): there the browser tests are required."""
    return environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _month(store: Store) -> None:
    """A month of a makerspace's two accounts, random but seeded."""
    rng, b = random.Random(6), Builder(store)
    start = NOW - timedelta(days=35)
    for account, base, daily in (("makerspace@mastodon", 1180, 4), ("makerspace.bsky", 640, 7)):
        for day in range(36):
            base += rng.randint(-2, daily)
            b.followers(account, start + timedelta(days=day, hours=3), base)
        b.events(account, "join", NOW - timedelta(days=10), rng.randint(40, 90))
        b.events(account, "leave", NOW - timedelta(days=9), rng.randint(5, 20))
        for number in range(24):
            when = start + timedelta(days=number * 1.4, hours=rng.choice([7, 9, 12, 17, 19]))
            post = b.post(account, f"week-{number // 5}", f"post-{number}", when)
            likes = rng.randint(2, 60)
            b.metrics(post, when + timedelta(hours=6), likes=likes // 2, reposts=1)
            b.metrics(
                post,
                when + timedelta(days=3),
                likes=likes,
                reposts=likes // 4,
                replies=rng.randint(0, 9),
                quotes=rng.randint(0, 2),
                views=likes * 31,
            )
    for day in range(35):
        for _ in range(rng.randint(0, 2 + day // 6)):
            kind = rng.choice(["mention", "reply", "reply", "quote"])
            b.said(
                "makerspace@mastodon",
                "mastodon",
                kind,
                f"member{rng.randint(1, 25)}",
                start + timedelta(days=day, hours=rng.randint(0, 23)),
            )
    upsert_conversions(
        store,
        [
            ConversionRow("week-1", "post-6", "mastodon", "", 4, 80, 60.0),
            ConversionRow("week-2", "post-11", "", "", 2),
        ],
        "ga.csv",
        NOW,
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('db') / 'month.db'}")
    _month(store)
    query = ReportQuery(
        NOW - timedelta(days=30),
        NOW,
        ACCOUNTS,
        ZoneInfo("Europe/Kyiv"),
        frozenset({"makerspace@mastodon"}),
        min_posts=20,
        top=5,
        min_slot_posts=2,  # a month of 24 posts per account: slots of 2 show on the map
    )
    return built_both_ways(store, query, NOW)


def _run(chromium: Path, profile: Path, *args: str) -> str:
    command = [str(chromium), *FLAGS, f"--user-data-dir={profile}", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class _Cells(HTMLParser):
    """Text of every ``td[data-field]`` by table id, and of elements with an id."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[dict[str, str]]] = {}
        self.ids: dict[str, str] = {}
        self._table = self._field = self._id = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table":
            self._table = found.get("id") or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append({})
        elif tag == "td" and found.get("data-field"):
            self._field = found["data-field"] or ""
            self.tables[self._table][-1][self._field] = ""
        elif found.get("id"):
            self._id = found["id"] or ""
            self.ids[self._id] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._field = ""
        self._id = ""
        self._table = "" if tag == "table" else self._table

    def handle_data(self, data: str) -> None:
        if self._field:
            self.tables[self._table][-1][self._field] += data
        elif self._id:
            self.ids[self._id] += data


def _shown(text: str) -> float | None:
    """A figure as the page shows it, back to a number: 1,234 / +12 / 2.50% / 3.10/h / –."""
    text = text.strip().replace(",", "")
    if text == "–":
        return None
    if text.endswith("%"):
        return float(text[:-1]) / 100
    return float(text.removesuffix("/h"))


def _same(shown: str, value: Any, places: int) -> bool:
    number = _shown(shown)
    if value is None or number is None:
        return number is value
    return bool(abs(number - value) <= 0.5 * 10**-places)


@pytest.fixture(scope="module")
def page(report: Report, chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("html")
    path = folder / "report.html"
    path.write_text(to_html(report), encoding="utf-8")
    return path


def test_charts_are_drawn(page: Path, chromium: Path, tmp_path: Path, report: Report) -> None:
    measured = page.with_name("measured.html")
    measured.write_text(page.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"))
    dom = _run(chromium, tmp_path / "profile", "--dump-dom", measured.as_uri())
    parser = _Cells()
    parser.feed(dom)
    geometry = json.loads(parser.ids["geometry"])
    assert set(geometry) == {
        "followers-chart",
        "reactions-chart",
        "heatmap-bluesky",
        "heatmap-mastodon",
    }
    for chart in geometry.values():
        assert chart["width"] > 300 and chart["height"] > 150
        assert all(w > 0 and h > 0 for _, w, h in chart["parts"])
    lines = [p for p in geometry["followers-chart"]["parts"] if p[0] == "polyline"]
    assert len(lines) == len(ACCOUNTS)
    assert len(geometry["reactions-chart"]["parts"]) == len(report.posts)
    cells = {t.platform: len(t.cells) for t in report.when_to_post}
    assert len(geometry["heatmap-mastodon"]["parts"]) == cells["mastodon"] > 0


def test_numbers_match_the_json_report(
    page: Path, chromium: Path, tmp_path: Path, report: Report
) -> None:
    dom = _run(chromium, tmp_path / "profile", "--dump-dom", page.as_uri())
    assert "<script" not in dom
    parser = _Cells()
    parser.feed(dom)
    data = json.loads(json.dumps(report_data(report)))
    rows = [r for r in parser.tables["accounts-table"] if r]
    assert [r["account"] for r in rows] == [a["account"] for a in data["accounts"]]
    for row, account in zip(rows, data["accounts"], strict=True):
        for field, places in (
            ("followers_start", 0),
            ("followers_end", 0),
            ("net_growth", 0),
            ("joins", 0),
            ("leaves", 0),
            ("churn_rate", 4),
            ("posts_published", 0),
            ("reactions_per_post", 2),
            ("conversions", 0),
        ):
            assert _same(row[field], account[field], places), (field, row[field], account)
    by_id = {p["publication_id"]: p for p in data["posts"]}
    listed = [by_id[p.publication_id] for p in most_reacted(report, DEFAULT_POSTS_SHOWN)]
    for table, expected in (("posts-table", listed), ("top-table", data["top_posts"])):
        shown = [r for r in parser.tables[table] if r]
        assert len(shown) == len(expected)
        for row, post in zip(shown, expected, strict=True):
            for field, places in (
                ("reactions", 0),
                ("likes", 0),
                ("engagement_rate", 4),
                ("velocity_24h", 2),
                ("conversions", 0),
            ):
                assert _same(row[field], post[field], places), (field, row[field], post)
    weeks = [r for r in parser.tables["community-table"] if r]
    assert [(r["week"], _shown(r["total"])) for r in weeks] == [
        (w["week"], w["total"]) for w in data["community"]
    ]
    assert _shown(parser.ids["total-posts"]) == len(data["posts"])
    assert _shown(parser.ids["total-reactions"]) == sum(a["reactions"] for a in data["accounts"])


def test_screenshot(page: Path, chromium: Path, tmp_path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / "report.png"
    target.unlink(missing_ok=True)
    _run(
        chromium,
        tmp_path / "profile",
        f"--screenshot={target}",
        "--window-size=1280,2000",
        page.as_uri(),
    )
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert target.stat().st_size > 20_000  # a blank page is a few kB
    shutil.copy(page, ARTIFACTS / "report.html")
