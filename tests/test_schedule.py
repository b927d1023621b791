"""schedule.yaml: parsing, validation, and every error placed on its file:line:column."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from crosspost.errors import ConfigError, Problem
from crosspost.loading.durations import parse_duration
from crosspost.loading.posts_spec import PostSpec
from crosspost.loading.project import load_project
from crosspost.loading.schedule import duplicate_post_ids, read_schedule
from crosspost.loading.yamlfile import parse_yaml
from tests.conftest import REPO, SCHEDULES


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
        ("1.5h", timedelta(minutes=90)),
        ("1H", timedelta(hours=1)),
        (" 2d 3h ", timedelta(days=2, hours=3)),
        (30, timedelta(seconds=30)),
        (timedelta(minutes=5), timedelta(minutes=5)),
    ],
)
def test_parse_duration(text: object, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "soon", "10 minutes", "5", "0m", "-5m", "1h foo", "m"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="duration|longer than zero"):
        parse_duration(text)


def test_parse_duration_rejects_bool() -> None:
    with pytest.raises(ValueError):
        parse_duration(True)


def test_example_schedule_reads(example_project: Path) -> None:
    schedule, root = read_schedule(example_project)
    assert schedule.timezone == ZoneInfo("Europe/Kyiv")
    assert set(schedule.accounts) == {"website-feed", "archive"}
    assert schedule.accounts["website-feed"].settings["path"] == "public/feed.xml"
    assert schedule.groups == {"everywhere": ["website-feed", "archive"]}
    welcome, article, hours, cafe, programme = schedule.posts
    assert welcome.at == datetime(2026, 1, 1, 10, 0) and welcome.grace == timedelta(days=5000)
    assert article.content == "laser-cutter" and article.missed == "publish"
    assert hours.every == timedelta(minutes=1) and hours.to == ["everywhere"]
    assert hours.missed == "skip"
    assert cafe.cron == "0 18 * * 2" and cafe.timezone == ZoneInfo("Europe/Kyiv")
    assert programme.approval == "required"
    assert [queue["id"] for queue in schedule.queues] == ["tips"]


def test_to_accepts_a_comma_separated_string(write_schedule: Callable[..., Path]) -> None:
    path = write_schedule("""
        posts:
          - id: a
            content: x
            to: "one, two ,three"
            every: 1h
        """)
    schedule, _ = read_schedule(path)
    assert schedule.posts[0].to == ["one", "two", "three"]


def test_notify_to_reads_a_comma_separated_string_as_posts_do(
    write_schedule: Callable[..., Path],
) -> None:
    schedule, _ = read_schedule(write_schedule('notify: {to: "ops,, alerts ,"}\n'))
    assert schedule.notify is not None and schedule.notify.to == ["ops", "alerts"]
    assert _one(write_schedule('notify: {to: " , "}\n')) == (
        "1:14: notify.to: List should have at least 1 item after validation, not 0"
    )


def test_defaults(write_schedule: Callable[..., Path]) -> None:
    schedule, _ = read_schedule(write_schedule("posts: []\n"))
    assert schedule.timezone == ZoneInfo("UTC")
    assert schedule.templates_dir == "templates"
    post = PostSpec(id="a", content="x", to=["y"], every=timedelta(hours=1))
    assert post.missed == "publish" and post.grace == timedelta(hours=1)
    assert post.thread == "auto" and post.utm and post.enabled and not post.numbering


def test_an_empty_file_is_an_error_not_an_empty_schedule(
    write_schedule: Callable[..., Path],
) -> None:
    # an editor's empty save must not read as "cancel every post"
    with pytest.raises(ConfigError, match="the schedule is empty"):
        read_schedule(write_schedule(""))


def _problems(path: Path) -> list[Problem]:
    with pytest.raises(ConfigError) as info:
        read_schedule(path)
    return info.value.problems


def _one(path: Path) -> str:
    (problem,) = _problems(path)
    return f"{problem.line}:{problem.column}: {problem.message}"


def test_top_level_must_be_a_mapping(write_schedule: Callable[..., Path]) -> None:
    assert _one(write_schedule("- a\n- b\n")) == "1:1: expected a mapping at the top level"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1\n b: 2\n", "2:3: YAML syntax: mapping values are not allowed here"),
        ("a: [1, 2\nb: 3\n", "2:2: YAML syntax: expected ',' or ']', but got ':'"),
        ("a: 1\nb: {c: 1\n", "2:4: YAML syntax: while parsing a flow mapping"),
        ('a: 1\nb: "open\nc: 2\n', "2:4: YAML syntax: while scanning a quoted scalar"),
        ("a: 1\na: 2\n", '2:1: YAML syntax: found duplicate key "a"'),
    ],
)
def test_yaml_syntax_errors_point_at_the_right_line(
    text: str, expected: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as info:
        parse_yaml(text, tmp_path / "s.yaml")
    (problem,) = info.value.problems
    assert f"{problem.line}:{problem.column}: {problem.message}".startswith(expected)
    assert problem.file == str(tmp_path / "s.yaml")


def test_syntax_error_line_offset_for_front_matter(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        parse_yaml("title: a\n bad: b\n", "post.md", line_offset=1)
    assert info.value.problems[0].line == 3


def test_unknown_top_level_field_has_did_you_mean(write_schedule: Callable[..., Path]) -> None:
    message = _one(write_schedule("timezone: UTC\ntimezon: UTC\n"))
    assert message == '2:10: timezon: unknown field; did you mean "timezone"?'


def test_unknown_post_field_has_did_you_mean() -> None:
    assert _one(SCHEDULES / "unknown_field.yaml") == (
        '12:15: posts.0.tiemzone: unknown field; did you mean "timezone"?'
    )


def test_unknown_field_without_close_match_has_no_hint(
    write_schedule: Callable[..., Path],
) -> None:
    assert _one(write_schedule("zzzzzz: 1\n")) == "1:9: zzzzzz: unknown field"


def test_two_triggers() -> None:
    assert _one(SCHEDULES / "two_triggers.yaml") == (
        "8:5: posts.0: needs exactly one of at, cron, every (found: at, cron)"
    )


def test_no_trigger(write_schedule: Callable[..., Path]) -> None:
    path = write_schedule("""
        posts:
          - id: a
            content: x
            to: [b]
        """)
    assert _one(path) == "2:5: posts.0: needs exactly one of at, cron, every (found: none)"


def test_start_needs_every(write_schedule: Callable[..., Path]) -> None:
    path = write_schedule("""
        posts:
          - id: a
            content: x
            to: [b]
            at: 2030-01-01 10:00
            start: 2030-01-01 09:00
        """)
    assert _one(path).endswith("posts.0: start goes with every")


def test_bad_timezone_top_level(write_schedule: Callable[..., Path]) -> None:
    assert _one(write_schedule("timezone: Mars/Olympus\n")).startswith(
        '1:11: timezone: unknown time zone "Mars/Olympus" (expected an IANA name)'
    )


def test_bad_duration_fixture() -> None:
    assert _one(SCHEDULES / "bad_duration.yaml").startswith(
        "11:12: posts.0.every: '10 minutes' is not a duration"
    )


def test_bad_grace(write_schedule: Callable[..., Path]) -> None:
    path = write_schedule("""
        posts:
          - id: a
            content: x
            to: [b]
            every: 1h
            grace: later
        """)
    assert _one(path).startswith("6:12: posts.0.grace: 'later' is not a duration")


def test_bad_at(write_schedule: Callable[..., Path]) -> None:
    path = write_schedule("""
        posts:
          - id: a
            content: x
            to: [b]
            at: next tuesday
        """)
    assert _one(path).startswith("5:9: posts.0.at: 'next tuesday' is not a date and time")


def test_bad_missed_policy(write_schedule: Callable[..., Path]) -> None:
    path = write_schedule("""
        posts:
          - id: a
            content: x
            to: [b]
            every: 1h
            missed: ask-me
        """)
    assert _one(path).startswith("6:13: posts.0.missed: ")


def test_bad_post_id(write_schedule: Callable[..., Path]) -> None:
    path = write_schedule("""
        posts:
          - id: "bad id!"
            content: x
            to: [b]
            every: 1h
        """)
    assert _one(path).startswith("2:9: posts.0.id: ")


def test_missing_required_post_fields(write_schedule: Callable[..., Path]) -> None:
    path = write_schedule("""
        posts:
          - id: a
            every: 1h
        """)
    messages = sorted(p.message for p in _problems(path))
    assert "posts.0.content: required field is missing" in messages
    assert "posts.0.to: required field is missing" in messages


def test_bad_account_name(write_schedule: Callable[..., Path]) -> None:
    path = write_schedule("""
        accounts:
          "my account": {connector: folder, path: out}
        """)
    assert "'my account' is not a valid name" in _one(path)


def test_duplicate_post_ids() -> None:
    schedule, root = read_schedule(SCHEDULES / "duplicate_post_id.yaml")
    (problem,) = duplicate_post_ids(schedule, root, SCHEDULES / "duplicate_post_id.yaml")
    assert (problem.line, problem.column, problem.message) == (
        12,
        9,
        'posts.1.id: "hi" is used twice (ids must be unique)',
    )


def test_a_duplicate_id_does_not_hide_the_other_problems(tmp_path: Path) -> None:
    """Before, a used-twice id was the only problem told: fix it, check again, see more."""
    text = (SCHEDULES / "duplicate_post_id.yaml").read_text(encoding="utf-8")
    path = tmp_path / "schedule.yaml"
    path.write_text(
        text.replace(
            "content: hello\n    to: [archive]\n    at: 2030-02",
            "content: nope\n    to: [archive]\n    at: 2030-02",
        ),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_project(path)
    messages = [p.message for p in info.value.problems]
    assert 'posts.1.id: "hi" is used twice (ids must be unique)' in messages
    assert any(m.startswith('posts.1.content: unknown content "nope"') for m in messages)


def test_every_problem_is_listed_sorted(write_schedule: Callable[..., Path]) -> None:
    path = write_schedule("""
        timezone: Nowhere/Land
        posts:
          - id: a
            content: x
            to: [b]
            every: forever
        """)
    problems = _problems(path)
    assert [p.line for p in problems] == [1, 6]


def test_the_repo_example_is_valid() -> None:
    schedule, _ = read_schedule(REPO / "schedule.yaml")
    assert [p.id for p in schedule.posts] == [
        "welcome",
        "laser-article",
        "open-hours",
        "repair-cafe",
        "autumn-programme",
    ]
