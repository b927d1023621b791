"""The HTML report's charts: nice ticks, axes, zone, titles and links, empty frames.

SVG is checked by parsing each ``<svg>`` of the page with ElementTree, not by
looking for substrings.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from crosspost.reporting.posting_times import HeatCell, PostingTimes
from crosspost.reporting.report_chart_frame import NO_DATA
from crosspost.reporting.report_display import NO_OTHER_POSTS, NO_REACTIONS
from crosspost.reporting.report_figures import PostFigures, RankedPost, Report
from crosspost.reporting.report_html import to_html
from crosspost.reporting.report_ticks import nice_ticks, tick_label, time_ticks

SVG = "{http://www.w3.org/2000/svg}"
KYIV = ZoneInfo("Europe/Kyiv")
SINCE = datetime(2024, 3, 4, tzinfo=UTC)
UNTIL = datetime(2024, 3, 18, tzinfo=UTC)


# --------------------------------------------------------------------------- ticks


@pytest.mark.parametrize(
    ("low", "high", "integer", "expected"),
    [
        (616, 1123, False, [600, 800, 1000, 1200]),  # not 616, 785, 954, 1,123
        (0, 1, True, [0, 1]),  # not 1, 1, 0, 0, 0
        (0, 4, True, [0, 1, 2, 3, 4]),
        (0, 0, True, [0, 1]),
        (5, 5, True, [5, 6]),
        (0, 37, True, [0, 10, 20, 30, 40]),
        (1000, 1040, True, [1000, 1010, 1020, 1030, 1040]),
        (0, 0.37, False, [0, 0.1, 0.2, 0.3, 0.4]),
        (-3, 7, False, [-5, 0, 5, 10]),
        (0, 12_345, True, [0, 5000, 10_000, 15_000]),
        (2.5, 2.5, False, [1, 2, 3, 4]),
    ],
)
def test_nice_ticks(low: float, high: float, integer: bool, expected: list[float]) -> None:
    assert nice_ticks(low, high, integer=integer) == expected


@pytest.mark.parametrize(("low", "high"), [(3, 97), (0.013, 0.9), (12, 13), (1e6, 2.6e6)])
def test_nice_ticks_cover_the_range_in_1_2_5_steps(low: float, high: float) -> None:
    ticks = nice_ticks(low, high)
    steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:], strict=False)}
    assert len(steps) == 1
    (step,) = steps
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert round(mantissa, 6) in (1, 2, 5)
    assert ticks[0] <= low and ticks[-1] >= high and 3 <= len(ticks) <= 7


@pytest.mark.parametrize(
    ("value", "ticks", "label"),
    [(1200, [0, 600, 1200], "1,200"), (0.5, [0, 0.5, 1], "0.5"), (2.25, [2, 2.25], "2.25")],
)
def test_tick_label(value: float, ticks: list[float], label: str) -> None:
    assert tick_label(value, ticks) == label


def test_time_ticks_are_local_midnights_or_month_starts() -> None:
    ticks = time_ticks(SINCE, UNTIL, KYIV)
    assert all(t.astimezone(KYIV).hour == 0 and t.minute == 0 for t in ticks)
    assert all(SINCE <= t <= UNTIL for t in ticks) and 3 <= len(ticks) <= 8
    gaps = {b - a for a, b in zip(ticks, ticks[1:], strict=False)}
    assert gaps == {timedelta(days=2)}
    year = time_ticks(datetime(2024, 1, 10, tzinfo=UTC), datetime(2024, 12, 20, tzinfo=UTC), KYIV)
    assert [t.month for t in year] == [3, 5, 7, 9, 11] and {t.day for t in year} == {1}
    hours = time_ticks(SINCE, SINCE + timedelta(hours=10), UTC)
    assert [t.hour for t in hours] == [0, 2, 4, 6, 8, 10]


# --------------------------------------------------------------------------- pages


def post(
    n: int, reactions: int | None, published: datetime, platform: str = "mastodon"
) -> PostFigures:
    return PostFigures(
        publication_id=n,
        account="masto" if platform == "mastodon" else "sky",
        platform=platform,
        entry="launch",
        content=f"c{n}",
        published_at=published,
        url=f"https://example.org/@us/{n}",
        likes=reactions,
        reposts=None,
        replies=None,
        quotes=None,
        views=None,
        bookmarks=None,
        reactions=reactions,
        followers_at_publish=None,
        engagement_rate=None,
        velocity_24h=None,
        conversions=0,
        clicks=None,
        conversion_value=None,
        title=f"Release notes {n}",
    )


def report(**parts: object) -> Report:
    return Report(SINCE + timedelta(days=14), SINCE, UNTIL, "Europe/Kyiv", (), (), **parts)  # type: ignore[arg-type]


def svgs(page: str) -> dict[str, ET.Element]:
    """Every ``<svg>`` of the page, parsed, by id."""
    found = {}
    for fragment in re.findall(r"<svg\b.*?</svg>", page, flags=re.S):
        element = ET.fromstring(fragment)
        found[element.get("id", "")] = element
    return found


def texts(element: ET.Element, cls: str | None = None) -> list[str]:
    return [
        "".join(t.itertext())
        for t in element.iter(f"{SVG}text")
        if cls is None or t.get("class") == cls
    ]


def test_charts_have_nice_ticks_labelled_axes_in_the_project_zone() -> None:
    from crosspost.reporting.report_figures import FollowerSample

    followers = [
        FollowerSample("masto", "mastodon", SINCE + timedelta(days=d), 616 + 169 * d)
        for d in range(4)
    ]
    posts = [post(n, n * 10, SINCE + timedelta(days=n, hours=20)) for n in range(1, 5)]
    charts = svgs(to_html(report(followers=followers, posts=posts)))
    follow = charts["followers-chart"]
    ticks = [
        float(t.replace(",", "")) for t in texts(follow.find(f"{SVG}g[@class='y-axis']"), "tick")
    ]  # type: ignore[arg-type]
    assert ticks == [600, 800, 1000, 1200]
    assert texts(follow, "axis-label") == ["followers", "date (Europe/Kyiv)"]
    reactions = charts["reactions-chart"]
    assert texts(reactions, "axis-label") == ["reactions", "published (Europe/Kyiv)"]
    x_ticks = texts(reactions.find(f"{SVG}g[@class='x-axis']"), "tick")  # type: ignore[arg-type]
    assert x_ticks[0] == "Mar 05" and len(x_ticks) >= 3  # the first midnight in Kyiv
    links = list(reactions.iter(f"{SVG}a"))
    assert [a.get("href") for a in links] == [f"https://example.org/@us/{n}" for n in range(1, 5)]
    first = "".join(links[0].find(f"{SVG}rect/{SVG}title").itertext())  # type: ignore[union-attr]
    # 20:00 UTC on 5 March is 22:00 in Kyiv: the title is in the project's zone.
    assert first == "Release notes 1 — masto, 2024-03-05 22:00: 10 reactions"


def test_tables_show_titles_with_links_and_local_times() -> None:
    page = to_html(report(posts=[post(1, 5, datetime(2024, 3, 5, 20, tzinfo=UTC))]))
    assert "published (Europe/Kyiv)" in page and "2024-03-05 22:00" in page
    assert '<a href="https://example.org/@us/1">Release notes 1</a>' in page
    assert "2024-03-05 20:00" not in page  # no UTC time left in a table


def test_heatmap_has_a_colour_legend_and_advice() -> None:
    cells = (HeatCell(2, 18, 6, 30.0, 2.0, 1.5, 3.0), HeatCell(4, 9, 5, 10.0, 0.7, 0.5, 1.0))
    times = PostingTimes("mastodon", 40, True, "40 posts", cells, "Tuesdays 18:00–19:00 got…")
    heat = svgs(to_html(report(when_to_post=[times])))["heatmap-mastodon"]
    assert len([r for r in heat.iter(f"{SVG}rect") if r.get("class") == "cell"]) == 2
    legend = heat.find(f"{SVG}g[@class='legend']")
    assert legend is not None
    swatches = [r.get("fill") for r in legend.iter(f"{SVG}rect")]
    assert len(swatches) == 5 and len(set(swatches)) == 5
    assert texts(legend) == ["median reactions", "0", "7.5", "15", "22.5", "30"]
    assert "hour of publishing (Europe/Kyiv)" in texts(heat, "axis-label")


def test_heatmap_never_shows_slots_of_one_post() -> None:
    sparse = PostingTimes(
        "bluesky", 30, False, "not enough data yet (30 posts, but no weekday × hour with 5 or more)"
    )
    heat = svgs(to_html(report(when_to_post=[sparse])))["heatmap-bluesky"]
    assert not [r for r in heat.iter(f"{SVG}rect") if r.get("class") == "cell"]
    assert texts(heat, "empty") == [sparse.message]


def test_empty_report_draws_every_frame_with_no_data_yet() -> None:
    empty = report(
        when_to_post=[
            PostingTimes(
                "mastodon", 0, False, "not enough data yet (0 posts with reactions, 20 needed)"
            )
        ]
    )
    charts = svgs(to_html(empty))
    assert set(charts) == {"followers-chart", "reactions-chart", "heatmap-mastodon"}
    for name in ("followers-chart", "reactions-chart"):
        chart = charts[name]
        frames = [r for r in chart.iter(f"{SVG}rect") if r.get("class") == "frame"]
        assert len(frames) == 1 and float(frames[0].get("width", 0)) > 0
        assert texts(chart, "empty") == [NO_DATA]
        assert len(texts(chart, "axis-label")) == 2
    assert texts(charts["heatmap-mastodon"], "empty") == [
        "not enough data yet (0 posts with reactions, 20 needed)"
    ]


def test_empty_tables_say_why_and_scroll_in_their_place() -> None:
    page = to_html(report())
    top = page[page.index('<table id="top-table">') :]
    assert NO_REACTIONS in top[: top.index("</table>")]
    assert 'id="bottom-table"' not in page  # it would only repeat the top posts' line
    assert page.count('<div class="scroll">') == page.count("<table ")  # never the page
    best = post(1, 3, SINCE + timedelta(hours=1))
    measured = to_html(report(posts=[best], top_posts=(RankedPost(1, best),)))
    bottom = measured[measured.index('<table id="bottom-table">') :]
    assert NO_OTHER_POSTS in bottom[: bottom.index("</table>")]


def test_many_posts_become_bars_per_day() -> None:
    posts = [post(n, 1, SINCE + timedelta(hours=n)) for n in range(300)]
    chart = svgs(to_html(report(posts=posts)))["reactions-chart"]
    bars = [r for r in chart.iter(f"{SVG}rect") if r.get("class") == "bar"]
    assert len(bars) == 13  # 300 hours from Monday 02:00 Kyiv: 13 local days
    assert texts(chart, "axis-label") == ["reactions per day", "day (Europe/Kyiv)"]
