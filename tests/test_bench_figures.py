"""The benchmark summary judges each figure against its target, on the value or the ratio."""

from __future__ import annotations

import pytest

from benchmarks.figures import Figure, Target, table


@pytest.mark.parametrize(
    ("figure", "met"),
    [
        (Figure("first post", 3.6, "s", target=Target("<", 5)), True),
        (Figure("first post", 5.0, "s", target=Target("<", 5)), False),
        (Figure("rss", 150, "MB", 92, Target("<=", 150)), True),
        (Figure("check", 67.4, "CPU-s", 34.6, Target("<=", 1.5, on_ratio=True)), False),
        (Figure("check", 50.0, "CPU-s", 34.6, Target("<=", 1.5, on_ratio=True)), True),
        (Figure("dispatch", 80, "posts/s", 100, Target(">=", 0.8, on_ratio=True)), True),
        (Figure("duplicates", 1, target=Target("==", 0)), False),
        (Figure("duplicates", 0, target=Target("==", 0)), True),
        (Figure("inbox reads", 722, baseline=8640), None),
        (Figure("no baseline", 2.0, target=Target("<=", 1.5, on_ratio=True)), None),
        (Figure("zero baseline", 2.0, baseline=0, target=Target("<=", 1.5, on_ratio=True)), None),
    ],
)
def test_met_judges_value_or_ratio(figure: Figure, met: bool | None) -> None:
    assert figure.met is met


def test_ratio_is_the_figure_over_its_baseline() -> None:
    assert Figure("check", 67.5, baseline=34.6).ratio == pytest.approx(1.951, abs=1e-3)
    assert Figure("check", 67.5).ratio is None


def test_table_shows_each_figure_with_baseline_ratio_target_and_verdict() -> None:
    shown = table(
        [
            Figure("check", 67.4, "CPU-s", 34.6, Target("<=", 1.5, on_ratio=True)),
            Figure("rss", 91, "MB", 92, Target("<=", 150)),
            Figure("inbox reads", 722),
        ]
    ).splitlines()
    assert shown[0] == "| figure | crosspost | baseline | ratio | target | met? |"
    assert shown[2] == "| check | 67.4 CPU-s | 34.6 CPU-s | 1.95x | <= 1.5x | NO |"
    assert shown[3] == "| rss | 91 MB | 92 MB | 0.99x | <= 150 MB | yes |"
    assert shown[4] == "| inbox reads | 722 | – | – | – | – |"
