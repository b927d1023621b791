"""Event sequences: expansion into post entries, validation at file:line, moving and cancelling."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from crosspost.cli import cli
from crosspost.errors import ConfigError
from crosspost.loading.events import EventStepItem
from crosspost.loading.events_spec import parse_step
from crosspost.loading.project import Project, load_project
from crosspost.planning.checking import check_project
from crosspost.planning.preview import plan_posts
from crosspost.planning.sync import definitions, sync_plan
from crosspost.publishing.publisher import Publisher
from crosspost.store import Store
from tests.fakes import FakeClock, FakePlatform

#: Event: Saturday 2027-03-13 11:00–17:00 in Kyiv (UTC+2): 09:00–15:00 UTC.
EVENT = """\
- id: open-day
  title: Open day
  start: 2027-03-13 11:00
  end: 2027-03-13 17:00
  timezone: Europe/Kyiv
  place: Workshop, 2nd floor
  url: https://makerspace.example/open-day
  content: open-day
  to: [everyone]
"""
STEPS = """\
  steps:
    - -7d
    - at: -1d
      template: tomorrow
    - start
    - at: +1d
      content: thanks
"""
TEMPLATE = (
    "{{ title }}: {{ step }}, {{ days_left }}d/{{ hours_left }}h left, "
    "{{ event.start.strftime('%d.%m %H:%M') }} at {{ event.place }} ({{ event.timezone }})"
)


def write(base: Path, events: str, extra: str = "") -> Path:
    (base / "templates").mkdir(exist_ok=True)
    (base / "templates" / "default.j2").write_text(TEMPLATE, encoding="utf-8")
    (base / "templates" / "tomorrow.j2").write_text(
        "Tomorrow: {{ event.title }} — {{ link }}", encoding="utf-8"
    )
    text = textwrap.dedent(
        """\
        timezone: UTC
        accounts:
          alpha: {connector: fake}
          beta: {connector: fake}
        groups:
          everyone: [alpha, beta]
        content:
          - id: open-day
            body: Come and see the machines.
          - id: thanks
            title: Thank you
            body: Thanks for coming!
            template: plain
        """
    )
    (base / "templates" / "plain.j2").write_text("{{ body }} ({{ step }})", encoding="utf-8")
    path = base / "schedule.yaml"
    path.write_text(text + extra + "events:\n" + textwrap.indent(events, "  "), encoding="utf-8")
    return path


def load(base: Path, events: str = EVENT + STEPS, extra: str = "") -> Project:
    return load_project(write(base, events, extra))


def problems(base: Path, events: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(base, events)
    return [str(p).removeprefix(str(base / "schedule.yaml")) for p in caught.value.problems]


# --------------------------------------------------------------------------- expansion


def test_each_step_is_a_one_off_entry_with_a_stable_id(tmp_path: Path, platform: object) -> None:
    project = load(tmp_path)
    steps = [p for p in project.schedule.posts if p.id.startswith("event:")]
    assert [p.id for p in steps] == [
        "event:open-day:-7d",
        "event:open-day:-1d",
        "event:open-day:start",
        "event:open-day:+1d",
    ]
    assert [p.at for p in steps] == [
        datetime(2027, 3, 6, 11, 0),
        datetime(2027, 3, 12, 11, 0),
        datetime(2027, 3, 13, 11, 0),
        datetime(2027, 3, 14, 17, 0),  # +1d is after the end
    ]
    assert all(str(p.timezone) == "Europe/Kyiv" for p in steps)
    assert project.targets["event:open-day:start"] == ["alpha", "beta"]
    assert project.where(0, "event:open-day:-1d") == (26, "events.0.steps.1")


def test_loading_twice_gives_equal_entries_and_content(tmp_path: Path, platform: object) -> None:
    first, second = load(tmp_path), load(tmp_path)
    assert first.schedule.posts == second.schedule.posts
    assert first.content == second.content
    dumps = [p.model_dump_json() for p in first.schedule.posts]
    assert dumps == [p.model_dump_json() for p in second.schedule.posts]


def test_step_fingerprints_are_stable_and_a_move_changes_only_the_steps(
    tmp_path: Path, platform: object
) -> None:
    before, again = definitions(load(tmp_path)), definitions(load(tmp_path))
    assert before == again  # a reload re-syncs nothing
    moved = definitions(load(tmp_path, (EVENT + STEPS).replace("17:00", "18:00")))
    changed = {entry for entry in before if before[entry] != moved[entry]}
    assert changed == {"event:open-day:+1d"}  # the only step anchored at the end


def test_templates_get_the_event_and_the_countdown(tmp_path: Path, platform: object) -> None:
    project = load(tmp_path)
    start = datetime(2027, 3, 1, tzinfo=UTC)
    texts = {p.entry: p.parts[0] for p in plan_posts(project, start, start + timedelta(days=30))}
    assert texts["event:open-day:-7d"] == (
        "Open day: -7d, 7d/168h left, 13.03 11:00 at Workshop, 2nd floor (Europe/Kyiv)"
    )
    assert texts["event:open-day:-1d"].startswith(
        "Tomorrow: Open day — https://makerspace.example/open-day?utm_source=fake"
    )
    assert texts["event:open-day:start"].startswith("Open day: start, 0d/0h left")
    assert texts["event:open-day:+1d"] == "Thanks for coming! (+1d)"


def test_no_steps_gives_the_default_sequence(tmp_path: Path, platform: object) -> None:
    project = load(tmp_path, EVENT)
    assert [p.id for p in project.schedule.posts] == [
        "event:open-day:-7d",
        "event:open-day:-1d",
        "event:open-day:-1h",
    ]
    item = project.content["event:open-day:-1h"]
    assert isinstance(item, EventStepItem)
    assert (item.days_left, item.hours_left) == (0, 1)
    assert project.where(0, "event:open-day:-1h")[1] == "events.0"


@pytest.mark.parametrize(
    ("written", "name"),
    [
        ("-1w", "-7d"),
        ("-168h", "-7d"),
        ("start-90m", "-1h30m"),
        ("end+1d", "+1d"),
        ("start+2h", "start+2h"),
        ("END-30m", "end-30m"),
        ("start", "start"),
        ("end", "end"),
    ],
)
def test_steps_have_one_canonical_name(written: str, name: str) -> None:
    assert parse_step(written).name == name


# --------------------------------------------------------------------------- validation


def test_bad_events_are_reported_at_their_lines(tmp_path: Path, platform: object) -> None:
    events = textwrap.dedent(
        """\
        - id: open-day
          title: Open day
          start: 2027-03-13 11:00
          end: 2027-03-13 14:00
          content: open-dya
          to: [everyone, nobody]
        """
    )
    found = problems(tmp_path, events)
    joined = "\n".join(found)
    assert len(found) == 2, joined
    assert (
        ':19:14: events.0.content: unknown content "open-dya"; did you mean "open-day"?' in joined
    )
    assert ":20:" in joined and 'events.0.to.1: unknown account or group "nobody"' in joined


def test_a_step_that_is_no_offset_is_an_error(tmp_path: Path, platform: object) -> None:
    (found,) = problems(tmp_path, EVENT + "  steps: [-7d, soon, -1d]\n")
    assert found.startswith(":24:")
    assert "events.0.steps.1.at: 'soon' is not a step (expected start, end, -7d" in found


def test_steps_outside_the_event_and_repeated_steps_are_errors(
    tmp_path: Path, platform: object
) -> None:
    events = textwrap.dedent(
        """\
        - id: open-day
          title: Open day
          start: 2027-03-13 11:00
          end: 2027-03-13 14:00
          to: alpha
          steps:
            - -7d
            - start+5h
            - end-1d
            - -1w
        """
    )
    found = "\n".join(problems(tmp_path, events))
    assert (
        ":22:" in found and "events.0.steps.1.at: step start+5h falls on 2027-03-13 16:00" in found
    )
    assert "write +5h for an announcement after the event" in found
    assert ":23:" in found and "events.0.steps.2.at: step end-1d falls on" in found
    assert ":24:" in found and 'events.0.steps.3.at: step "-7d" is given twice' in found


def test_an_unknown_step_template_is_an_error_at_its_line(tmp_path: Path, platform: object) -> None:
    (found,) = problems(
        tmp_path, (EVENT + STEPS).replace("template: tomorrow", "template: tomorow")
    )
    assert found.startswith(":27:")
    assert (
        'events.0.steps.1.template: unknown template "tomorow"; did you mean "tomorrow"?' in found
    )


def test_an_end_before_the_start_is_an_error(tmp_path: Path, platform: object) -> None:
    events = EVENT.replace("end: 2027-03-13 17:00", "end: 2027-03-13 10:00")
    (found,) = problems(tmp_path, events)
    assert found.startswith(":18:") and "events.0.end: end 2027-03-13 10:00" in found


def test_a_zero_offset_is_an_error(tmp_path: Path, platform: object) -> None:
    (found,) = problems(tmp_path, EVENT + "  steps: [-0d]\n")
    assert (
        found.startswith(":24:") and "events.0.steps.0.at: '0d' must be longer than zero" in found
    )


def test_a_duplicate_event_id_is_an_error(tmp_path: Path, platform: object) -> None:
    (found,) = problems(tmp_path, EVENT + EVENT)
    assert found.startswith(":24:") and 'events.1.id: "open-day" is used twice' in found


def test_an_event_in_the_past_is_a_warning_not_an_error(tmp_path: Path, platform: object) -> None:
    write(tmp_path, EVENT.replace("2027-03-13", "2020-03-13"))
    result = CliRunner().invoke(cli, ["-s", str(tmp_path / "schedule.yaml"), "check", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["problems"] == []
    (warning,) = report["warnings"]
    assert warning["line"] == 17 and "open-day was on 2020-03-13 11:00 (past)" in warning["message"]
    plain = CliRunner().invoke(cli, ["-s", str(tmp_path / "schedule.yaml"), "check"])
    assert plain.exit_code == 0 and "warning: " in plain.stderr


def test_check_renders_every_step_and_places_problems_on_the_step(
    tmp_path: Path, platform: object
) -> None:
    path = write(tmp_path, EVENT + STEPS)
    (tmp_path / "templates" / "tomorrow.j2").write_text("{{ nope }}", encoding="utf-8")
    project = load_project(path)
    found = check_project(project, datetime(2027, 3, 1, tzinfo=UTC))
    assert found and all("tomorrow.j2" in p.file for p in found)
    assert any("nope" in p.message for p in found)


# --------------------------------------------------------------------------- the store


def rows(store: Store) -> dict[tuple[str, str, str], str]:
    return {(p.entry, p.occurrence, p.account): p.status for p in store.publications()}


def test_moving_the_event_moves_every_unsent_step(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    clock = FakeClock(datetime(2027, 3, 6, 8, 59, tzinfo=UTC))  # a minute before -7d
    sync_plan(load(tmp_path), store, clock(), horizon=timedelta(days=30))
    clock.advance(timedelta(minutes=2))
    project = load(tmp_path)
    published = Publisher(store, project, clock=clock).run_due()
    assert [(o.entry, o.status) for o in published] == [("event:open-day:-7d", "published")] * 2

    moved = (EVENT + STEPS).replace("2027-03-13", "2027-03-20")
    sync_plan(load(tmp_path, moved), store, clock(), horizon=timedelta(days=30))
    state = rows(store)
    for account in ("alpha", "beta"):
        assert state["event:open-day:-7d", "2027-03-06T11:00", account] == "published"
        assert state["event:open-day:-7d", "2027-03-13T11:00", account] == "planned"
        assert state["event:open-day:-1d", "2027-03-12T11:00", account] == "cancelled"
        assert state["event:open-day:-1d", "2027-03-19T11:00", account] == "planned"
        assert state["event:open-day:start", "2027-03-13T11:00", account] == "cancelled"
        assert state["event:open-day:start", "2027-03-20T11:00", account] == "planned"
        assert state["event:open-day:+1d", "2027-03-21T17:00", account] == "planned"
    assert len(platform.calls) == 2


def test_cancelling_cancels_unsent_steps_and_posts_the_cancellation(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    clock = FakeClock(datetime(2027, 3, 6, 8, 59, tzinfo=UTC))
    sync_plan(load(tmp_path), store, clock(), horizon=timedelta(days=30))
    clock.advance(timedelta(minutes=2))
    Publisher(store, load(tmp_path), clock=clock).run_due()

    clock.set(datetime(2027, 3, 8, 12, 0, tzinfo=UTC))
    cancelled = EVENT + STEPS + "  cancelled: true\n  cancellation: {template: called-off}\n"
    (tmp_path / "templates" / "called-off.j2").write_text(
        "{{ event.title }} on {{ event.start.strftime('%d.%m') }} is cancelled. Sorry!",
        encoding="utf-8",
    )
    project = load(tmp_path, cancelled)
    report = sync_plan(project, store, clock(), horizon=timedelta(days=30))
    assert report.cancelled == 6  # -1d, start, +1d × two accounts
    state = rows(store)
    assert {s for (e, _, _), s in state.items() if e == "event:open-day:-7d"} == {"published"}
    unsent = {s for (e, _, _), s in state.items() if e.endswith(("-1d", "start", "+1d"))}
    assert unsent == {"cancelled"}

    outcomes = Publisher(store, project, clock=clock).run_due()
    assert sorted((o.entry, o.account, o.status) for o in outcomes) == [
        ("event:open-day:cancelled", "alpha", "published"),
        ("event:open-day:cancelled", "beta", "published"),
    ]
    assert platform.calls[-1].text == "Open day on 13.03 is cancelled. Sorry!"
    # a reload changes nothing: the cancellation keeps its row and goes out once
    sync_plan(load(tmp_path, cancelled), store, clock(), horizon=timedelta(days=30))
    assert Publisher(store, project, clock=clock).run_due() == []
    assert len(platform.calls) == 4


def test_a_cancelled_event_without_cancellation_posts_nothing(
    tmp_path: Path, platform: object
) -> None:
    project = load(tmp_path, EVENT + "  cancelled: true\n")
    assert project.schedule.posts == []


def test_a_refused_event_leaves_the_others_and_the_posts_checked(
    tmp_path: Path, platform: object
) -> None:
    """An event refused for a field is reported with the problems of everything else."""
    broken = EVENT.replace("start: 2027-03-13 11:00", "start: someday")
    second = EVENT.replace("id: open-day", "id: repair-cafe").replace(
        "content: open-day", "content: nope"
    )
    posts = "posts:\n  - {id: p, content: missing, to: [alpha], at: 2030-01-01 10:00}\n"
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, broken + second, extra=posts)
    messages = [p.message for p in caught.value.problems]
    assert any(m.startswith("events.0.start:") for m in messages), messages
    assert any(m.startswith("events.1.content:") and "nope" in m for m in messages), messages
    assert any(m.startswith("posts.0.content:") and "missing" in m for m in messages), messages
