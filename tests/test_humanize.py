"""Durations and counts as people say them."""

from __future__ import annotations

from datetime import timedelta

from crosspost.rendering.humanize import counted, duration


def test_counted_says_one_and_many() -> None:
    assert counted(1, "entry", "entries") == "1 entry"
    assert counted(0, "entry", "entries") == "0 entries"
    assert counted(2_000, "account") == "2,000 accounts"
    assert counted(1, "content item") == "1 content item"


def test_duration_in_its_largest_unit() -> None:
    assert duration(timedelta(seconds=45)) == "45 s"
    assert duration(timedelta(hours=2, minutes=59)) == "3 h"
    assert duration(timedelta(days=7)) == "7 d"
    assert duration(timedelta(seconds=-5)) == "0 s"
