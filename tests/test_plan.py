"""Occurrences: cron/at/every in the entry's zone, DST gaps and folds, until, weekdays."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from crosspost.loading.posts_spec import PostSpec
from crosspost.planning.plan import cron_trigger, occurrences

KYIV = ZoneInfo("Europe/Kyiv")
NEW_YORK = ZoneInfo("America/New_York")


def _post(**trigger: object) -> PostSpec:
    return PostSpec.model_validate({"id": "p", "content": "c", "to": ["a"], **trigger})


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def _local_days(found: list, zone: ZoneInfo) -> dict[date, list[str]]:  # type: ignore[type-arg]
    days: dict[date, list[str]] = {}
    for occurrence in found:
        local = occurrence.due_at.astimezone(zone)
        days.setdefault(local.date(), []).append(local.strftime("%H:%M%z"))
    return days


# --------------------------------------------------------------------------- DST, cron


@pytest.mark.parametrize(
    ("start", "end"), [((2026, 3, 25), (2026, 4, 2)), ((2026, 10, 21), (2026, 10, 29))]
)
def test_kyiv_daily_0230_once_per_day_across_dst(
    start: tuple[int, int, int], end: tuple[int, int, int]
) -> None:
    found = occurrences(_post(cron="30 2 * * *"), KYIV, _utc(*start), _utc(*end))
    days = _local_days(found, KYIV)
    assert len(found) == len(days)  # one a day
    first = min(days)
    assert sorted(days) == [first + timedelta(days=i) for i in range(len(days))]
    assert date(2026, 3, 29) in days or date(2026, 10, 25) in days
    assert all(len(times) == 1 and times[0].startswith("02:30") for times in days.values())
    assert len({o.key for o in found}) == len(found)


def test_kyiv_spring_forward_gap_fires_once_an_hour_later() -> None:
    # 2026-03-29: clocks jump from 03:00 to 04:00 in Kyiv, so 03:30 does not exist
    found = occurrences(_post(cron="30 3 * * *"), KYIV, _utc(2026, 3, 27), _utc(2026, 4, 1))
    days = _local_days(found, KYIV)
    assert days == {
        date(2026, 3, 27): ["03:30+0200"],
        date(2026, 3, 28): ["03:30+0200"],
        date(2026, 3, 29): ["04:30+0300"],  # same offset as before the change: +1 h wall clock
        date(2026, 3, 30): ["03:30+0300"],
        date(2026, 3, 31): ["03:30+0300"],
    }


def test_kyiv_fall_back_fold_fires_once_at_the_first_instant() -> None:
    # 2026-10-25: clocks go back from 04:00 to 03:00 in Kyiv, so 03:30 happens twice
    found = occurrences(_post(cron="30 3 * * *"), KYIV, _utc(2026, 10, 23), _utc(2026, 10, 28))
    days = _local_days(found, KYIV)
    assert days[date(2026, 10, 25)] == ["03:30+0300"]
    assert len(found) == 5 and len(days) == 5
    fold = next(o for o in found if o.local.date() == date(2026, 10, 25))
    assert fold.due_at == _utc(2026, 10, 25, 0, 30) and fold.key == "2026-10-25T03:30"


def test_new_york_fall_back_0130_fires_once() -> None:
    found = occurrences(_post(cron="30 1 * * *"), NEW_YORK, _utc(2026, 10, 30), _utc(2026, 11, 4))
    days = _local_days(found, NEW_YORK)
    assert days[date(2026, 11, 1)] == ["01:30-0400"]  # the first (EDT) 01:30
    assert all(len(times) == 1 for times in days.values()) and len(days) == 5


def test_new_york_spring_forward_0230_fires_once() -> None:
    found = occurrences(_post(cron="30 2 * * *"), NEW_YORK, _utc(2026, 3, 6), _utc(2026, 3, 11))
    days = _local_days(found, NEW_YORK)
    assert days[date(2026, 3, 8)] == ["03:30-0400"]
    assert days[date(2026, 3, 7)] == ["02:30-0500"] and days[date(2026, 3, 9)] == ["02:30-0400"]
    assert all(len(times) == 1 for times in days.values()) and len(days) == 5


def test_new_york_hourly_cron_across_fall_back_has_unique_keys() -> None:
    found = occurrences(
        _post(cron="0 * * * *"), NEW_YORK, _utc(2026, 11, 1, 3), _utc(2026, 11, 1, 9)
    )
    keys = [o.key for o in found]
    assert len(keys) == len(set(keys))
    assert "2026-11-01T01:00" in keys and "2026-11-01T02:00" in keys
    assert all(
        b > a
        for a, b in zip([o.due_at for o in found], [o.due_at for o in found][1:], strict=False)
    )


def test_at_in_a_dst_gap_and_fold() -> None:
    gap = occurrences(_post(at="2026-03-08 02:30"), NEW_YORK, _utc(2026, 1, 1), _utc(2027, 1, 1))
    assert [o.due_at for o in gap] == [_utc(2026, 3, 8, 7, 30)]  # 03:30 EDT
    fold = occurrences(_post(at="2026-11-01 01:30"), NEW_YORK, _utc(2026, 1, 1), _utc(2027, 1, 1))
    assert [o.due_at for o in fold] == [_utc(2026, 11, 1, 5, 30)]  # the first 01:30 (EDT)


def test_entry_timezone_overrides_default() -> None:
    post = _post(cron="0 9 * * *", timezone="America/New_York")
    (found,) = occurrences(post, KYIV, _utc(2026, 6, 1), _utc(2026, 6, 2))
    assert found.due_at == _utc(2026, 6, 1, 13) and str(found.local.tzinfo) == "America/New_York"


# --------------------------------------------------------------------------- weekdays


def _weekdays(expression: str) -> list[str]:
    found = occurrences(
        _post(cron=expression), ZoneInfo("UTC"), _utc(2026, 6, 1), _utc(2026, 6, 15)
    )
    return sorted({o.local.strftime("%a") for o in found})


@pytest.mark.parametrize(
    ("field", "days"),
    [
        ("0", ["Sun"]),
        ("7", ["Sun"]),
        ("1", ["Mon"]),
        ("6", ["Sat"]),
        ("1-5", ["Fri", "Mon", "Thu", "Tue", "Wed"]),
        ("0,6", ["Sat", "Sun"]),
        ("5-7", ["Fri", "Sat", "Sun"]),
        ("sun", ["Sun"]),
        ("mon-fri", ["Fri", "Mon", "Thu", "Tue", "Wed"]),
        ("*/2", ["Sat", "Sun", "Thu", "Tue"]),
        ("*", ["Fri", "Mon", "Sat", "Sun", "Thu", "Tue", "Wed"]),
    ],
)
def test_cron_weekdays_are_standard_cron(field: str, days: list[str]) -> None:
    assert _weekdays(f"0 9 * * {field}") == days


def test_example_repair_cafe_is_on_tuesdays() -> None:
    found = occurrences(_post(cron="0 18 * * 2"), KYIV, _utc(2026, 6, 1), _utc(2026, 6, 30))
    assert {o.local.strftime("%a %H:%M") for o in found} == {"Tue 18:00"}
    assert len(found) == 4


@pytest.mark.parametrize("expression", ["0 9 * *", "0 9 * * * *", "61 9 * * *", "0 9 * * 8"])
def test_bad_cron(expression: str) -> None:
    with pytest.raises(ValueError):
        cron_trigger(expression, KYIV)


@pytest.mark.parametrize(
    ("expression", "told"),
    [
        ("61 9 * * *", 'minute "61": the last value (61) is higher than the maximum value (59)'),
        ("0 25 * * *", 'hour "25": the last value (25)'),
        ("0 9 32 * 1", 'day-of-month "32": the last value (32)'),  # either day: two triggers
        ("0 9 * 13 *", 'month "13": the last value (13)'),
        ("0 9 * * 8", 'day-of-week "8": day of week 8 is out of range 0-7'),
        ("*/0 * * * *", 'minute "*/0": Increment must be higher than 0'),
    ],
)
def test_a_bad_cron_field_is_named(expression: str, told: str) -> None:
    with pytest.raises(ValueError) as info:
        cron_trigger(expression, KYIV)
    assert str(info.value).startswith(f'cron "{expression}": {told}')


def test_entries_that_share_a_cron_line_share_its_trigger() -> None:
    daily = cron_trigger("0 9 * * *", KYIV)
    assert cron_trigger("0 9 * * *", KYIV) is daily  # built once, read by every entry
    assert cron_trigger("0 9 * * *", ZoneInfo("UTC")) is not daily
    assert cron_trigger("0 9 * * *", KYIV, _utc(2027, 1, 1)) is not daily
    for _ in range(2):  # a bad line is told each time, not remembered as something else
        with pytest.raises(ValueError, match='minute "61"'):
            cron_trigger("61 9 * * *", KYIV)


def test_entries_of_one_cron_line_share_its_times_in_a_window() -> None:
    from crosspost.planning import plan

    start, end = _utc(2026, 10, 24), _utc(2026, 10, 27)  # Kyiv falls back on the 25th
    first = occurrences(_post(cron="30 3 * * *"), KYIV, start, end)
    other = PostSpec.model_validate({"id": "q", "content": "c", "to": ["a"], "cron": "30 3 * * *"})
    second = occurrences(other, KYIV, start, end)
    assert [(o.due_at, o.key, o.local) for o in first] == [
        (o.due_at, o.key, o.local) for o in second
    ]
    assert {o.entry for o in second} == {"q"}
    assert len(first) == 3  # 03:30 happens twice on the 25th: it goes out once
    kept = len(plan._CRON_TIMES)
    minutes = occurrences(_post(cron="* * * * *"), KYIV, start, end)
    assert len(minutes) == 3 * 24 * 60 - 60  # the hour shown twice goes out once
    assert len(plan._CRON_TIMES) == kept  # a long answer is worked out, not kept


# --------------------------------------------------------------------------- every, until


def test_every_keeps_elapsed_time_across_fall_back() -> None:
    post = _post(every="1h", start="2026-10-25 01:00")
    found = occurrences(post, KYIV, _utc(2026, 10, 24, 21), _utc(2026, 10, 25, 4))
    assert [o.due_at for o in found] == [_utc(2026, 10, 24, 22 + i) for i in range(2)] + [
        _utc(2026, 10, 25, i) for i in range(4)
    ]
    locals_ = [o.local.strftime("%H:%M%z") for o in found]
    assert locals_ == [
        "01:00+0300",
        "02:00+0300",
        "03:00+0300",
        "03:00+0200",
        "04:00+0200",
        "05:00+0200",
    ]
    assert len({o.key for o in found}) == 6  # both 03:00 are real, distinct occurrences


def test_every_day_across_spring_forward_is_24_hours() -> None:
    post = _post(every="1d", start="2026-03-27 12:00")
    found = occurrences(post, KYIV, _utc(2026, 3, 27), _utc(2026, 4, 1))
    gaps = {b.due_at - a.due_at for a, b in zip(found, found[1:], strict=False)}
    assert gaps == {timedelta(days=1)}
    assert [o.local.hour for o in found] == [12, 12, 13, 13, 13]


def test_every_without_start_is_a_stable_grid() -> None:
    post = _post(every="15m")
    a = occurrences(post, KYIV, _utc(2026, 6, 1, 10, 7), _utc(2026, 6, 1, 11))
    b = occurrences(post, KYIV, _utc(2026, 6, 1, 10, 31), _utc(2026, 6, 1, 11))
    assert [o.local.minute for o in a] == [15, 30, 45]
    assert [o.key for o in a][2:] == [o.key for o in b]


def test_until_stops_cron() -> None:
    post = _post(cron="0 9 * * *", until="2026-06-03 09:00")
    found = occurrences(post, KYIV, _utc(2026, 6, 1), _utc(2026, 6, 30))
    assert [o.key for o in found] == ["2026-06-01T09:00", "2026-06-02T09:00", "2026-06-03T09:00"]


def test_until_stops_every() -> None:
    post = _post(every="1d", start="2026-06-01 09:00", until="2026-06-03 08:59")
    found = occurrences(post, KYIV, _utc(2026, 5, 1), _utc(2026, 7, 1))
    assert [o.local.day for o in found] == [1, 2]


def test_until_is_in_the_entry_zone() -> None:
    post = _post(cron="0 * * * *", until="2026-06-01 12:00", timezone="Europe/Kyiv")
    found = occurrences(post, ZoneInfo("UTC"), _utc(2026, 6, 1, 7), _utc(2026, 6, 2))
    assert found[-1].key == "2026-06-01T12:00" and found[-1].due_at == _utc(2026, 6, 1, 9)


def test_at_is_a_single_occurrence_in_window_only() -> None:
    post = _post(at="2026-06-01 10:00")
    (only,) = occurrences(post, KYIV, _utc(2026, 1, 1), _utc(2027, 1, 1))
    assert only.due_at == _utc(2026, 6, 1, 7) and only.key == "2026-06-01T10:00"
    assert occurrences(post, KYIV, _utc(2026, 6, 1, 7, 1), _utc(2027, 1, 1)) == []
    assert occurrences(post, KYIV, _utc(2026, 1, 1), _utc(2026, 6, 1, 7)) == []  # end exclusive


def test_limit() -> None:
    found = occurrences(_post(every="1m"), KYIV, _utc(2026, 6, 1), _utc(2026, 7, 1), limit=5)
    assert len(found) == 5


# --------------------------------------------------------------------------- via the CLI


def test_plan_cli_kyiv_dst(
    write_schedule: Callable[..., Path],
    run_cli: Callable[..., object],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import json

    import time_machine

    schedule = write_schedule("""
        timezone: Europe/Kyiv
        accounts:
          archive: {connector: folder, path: out}
        content:
          - id: hello
            body: Hello
        posts:
          - id: nightly
            content: hello
            to: [archive]
            cron: "30 2 * * *"
        """)
    with time_machine.travel(datetime(2026, 3, 26, tzinfo=UTC), tick=False):
        result = run_cli(schedule, "plan", "--until", "5d", "--json")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    rows = json.loads(result.stdout)["publications"]  # type: ignore[attr-defined]
    assert [r["local"] for r in rows] == [
        "2026-03-26T02:30:00+02:00",
        "2026-03-27T02:30:00+02:00",
        "2026-03-28T02:30:00+02:00",
        "2026-03-29T02:30:00+02:00",
        "2026-03-30T02:30:00+03:00",
        "2026-03-31T02:30:00+03:00",
    ]
    assert rows[3]["due_at"] == "2026-03-29T00:30:00+00:00"


def test_day_of_month_or_day_of_week_as_in_standard_cron() -> None:
    post = _post(cron="0 9 13 * 5")  # the 13th, and every Friday
    found = occurrences(post, ZoneInfo("UTC"), _utc(2026, 1, 1), _utc(2026, 2, 1))
    assert [o.local.day for o in found] == [2, 9, 13, 16, 23, 30]


def test_day_of_month_and_starred_weekday_stays_and() -> None:
    post = _post(cron="0 9 1-7 * */1")  # a field starting with * does not widen the match
    found = occurrences(post, ZoneInfo("UTC"), _utc(2026, 1, 1), _utc(2026, 2, 1))
    assert [o.local.day for o in found] == [1, 2, 3, 4, 5, 6, 7]
