"""The events' .ics file, read back with the ``icalendar`` package (an independent parser)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from click.testing import CliRunner, Result

from crosspost.cli import cli
from crosspost.publishing.daemon import Daemon
from crosspost.store import Store
from tests.fakes import FakeClock, edit, settled_reload
from tests.test_events import EVENT, write

KYIV = ZoneInfo("Europe/Kyiv")
NEW_YORK = """\
- id: meetup
  title: "Meetup: tools, tips; and talks"
  start: 2027-11-07 01:30
  end: 2027-11-07 03:00
  timezone: America/New_York
  content: open-day
  to: alpha
  cancelled: true
"""
CALENDAR = "calendar: {path: public/events.ics, name: Makerspace, domain: makerspace.example}\n"


@pytest.fixture(autouse=True)
def _fake_accounts(platform: object) -> None:
    """The schedule of tests/test_events.py uses ``fake`` accounts."""


def calendar(base: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-s", str(base / "schedule.yaml"), "calendar", *args])


def parsed(path: Path) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(path.read_bytes())


def test_one_calendar_with_every_event_valid_per_rfc_5545(tmp_path: Path) -> None:
    write(tmp_path, EVENT + NEW_YORK, CALENDAR)
    result = calendar(tmp_path, "--json")
    assert result.exit_code == 0, result.output
    path = tmp_path / "public" / "events.ics"
    assert json.loads(result.stdout) == {"path": str(path), "events": 2, "written": True}
    raw = path.read_bytes()
    lines = raw.split(b"\r\n")
    assert lines[-1] == b"" and b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    assert all(len(line) <= 75 for line in lines)  # folded (§3.1)

    cal = parsed(path)
    assert (cal["VERSION"], cal["PRODID"], cal["METHOD"]) == (
        "2.0",
        "-//crosspost//events//EN",
        "PUBLISH",
    )
    assert cal["X-WR-CALNAME"] == "Makerspace"
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {"open-day@makerspace.example", "meetup@makerspace.example"}
    for component in cal.walk():
        assert component.errors == []
    open_day = events["open-day@makerspace.example"]
    assert open_day["DTSTART"].dt == datetime(2027, 3, 13, 11, 0, tzinfo=KYIV)
    assert open_day["DTSTART"].params["TZID"] == "Europe/Kyiv"
    assert open_day["DTEND"].dt.astimezone(UTC) == datetime(2027, 3, 13, 15, 0, tzinfo=UTC)
    assert open_day["DTSTAMP"].dt.tzinfo is not None
    assert (str(open_day["STATUS"]), str(open_day["LOCATION"])) == (
        "CONFIRMED",
        "Workshop, 2nd floor",
    )
    assert str(open_day["DESCRIPTION"]) == "Come and see the machines."
    assert str(open_day["URL"]) == "https://makerspace.example/open-day"
    meetup = events["meetup@makerspace.example"]
    assert str(meetup["STATUS"]) == "CANCELLED"
    assert str(meetup["SUMMARY"]) == "Meetup: tools, tips; and talks"  # escaped and read back


def test_each_tzid_has_a_vtimezone_that_gives_the_zone_offsets(tmp_path: Path) -> None:
    write(tmp_path, EVENT + NEW_YORK, CALENDAR)
    assert calendar(tmp_path).exit_code == 0
    cal = parsed(tmp_path / "public" / "events.ics")
    zones = {str(z["TZID"]): z for z in cal.walk("VTIMEZONE")}
    tzids = {e["DTSTART"].params["TZID"] for e in cal.walk("VEVENT")}
    assert set(zones) == tzids == {"Europe/Kyiv", "America/New_York"}
    for name, component in zones.items():
        built, real = component.to_tz(), ZoneInfo(name)
        moment = datetime(2027, 1, 1, 12, tzinfo=UTC)
        while moment.year == 2027:  # every 6 hours of the year, across both changes
            assert moment.astimezone(built).utcoffset() == moment.astimezone(real).utcoffset()
            moment += timedelta(hours=6)
    # 01:30 on the New York fall-back night is the first (daylight) 01:30, as the schedule reads it
    meetup = next(e for e in cal.walk("VEVENT") if str(e["UID"]).startswith("meetup"))
    assert meetup["DTSTART"].dt.astimezone(UTC) == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)


def test_a_long_description_is_folded_and_reads_back_whole(tmp_path: Path) -> None:
    body = "Ünïcödé, semicolons; backslashes \\ and\nnew lines. " * 8
    write(tmp_path, EVENT, CALENDAR)
    schedule = tmp_path / "schedule.yaml"
    text = schedule.read_text(encoding="utf-8")
    schedule.write_text(
        text.replace("body: Come and see the machines.", f"body: {json.dumps(body)}"),
        encoding="utf-8",
    )
    assert calendar(tmp_path).exit_code == 0
    path = tmp_path / "public" / "events.ics"
    assert all(len(line) <= 75 for line in path.read_bytes().split(b"\r\n"))
    (event,) = parsed(path).walk("VEVENT")
    assert str(event["DESCRIPTION"]) == body.strip()


def test_the_file_is_only_rewritten_when_an_event_changes(tmp_path: Path) -> None:
    write(tmp_path, EVENT, CALENDAR)
    assert calendar(tmp_path).stdout.endswith("1 event, written\n")
    assert calendar(tmp_path).stdout.endswith("1 event, unchanged\n")  # DTSTAMP alone differs
    write(tmp_path, EVENT.replace("11:00", "12:00"), CALENDAR)
    assert calendar(tmp_path).stdout.endswith("1 event, written\n")
    (event,) = parsed(tmp_path / "public" / "events.ics").walk("VEVENT")
    assert str(event["UID"]) == "open-day@makerspace.example"  # same UID: the entry moves
    assert event["DTSTART"].dt == datetime(2027, 3, 13, 12, 0, tzinfo=KYIV)


def test_output_dash_prints_and_no_calendar_setting_needs_output(tmp_path: Path) -> None:
    write(tmp_path, EVENT)
    missing = calendar(tmp_path)
    assert missing.exit_code == 2 and "give --output PATH" in missing.stderr
    printed = calendar(tmp_path, "--output", "-")
    assert printed.exit_code == 0 and printed.stdout_bytes.startswith(b"BEGIN:VCALENDAR\r\n")
    assert calendar(tmp_path, "-o", str(tmp_path / "x.ics")).exit_code == 0
    assert (tmp_path / "x.ics").is_file()


def test_the_daemon_rewrites_the_calendar_when_the_schedule_changes(
    tmp_path: Path, store: Store, platform: object
) -> None:
    schedule = write(tmp_path, EVENT, CALENDAR)
    clock = FakeClock(datetime(2027, 1, 1, tzinfo=UTC))
    daemon = Daemon(schedule, store, clock=clock)
    path = tmp_path / "public" / "events.ics"
    (event,) = parsed(path).walk("VEVENT")
    assert event["DTSTART"].dt == datetime(2027, 3, 13, 11, 0, tzinfo=KYIV)

    edit(schedule, schedule.read_text(encoding="utf-8").replace("2027-03-13", "2027-03-20"))
    assert settled_reload(daemon, clock)
    (event,) = parsed(path).walk("VEVENT")
    assert event["DTSTART"].dt == datetime(2027, 3, 20, 11, 0, tzinfo=KYIV)


def test_a_calendar_that_cannot_be_written_does_not_stop_the_daemon(
    tmp_path: Path, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    schedule = write(tmp_path, EVENT, "calendar: schedule.yaml/events.ics\n")  # not a folder
    with caplog.at_level("ERROR", logger="crosspost.planning.ics"):
        daemon = Daemon(schedule, store, clock=FakeClock(datetime(2027, 1, 1, tzinfo=UTC)))
    assert daemon.sync().added == 0  # nothing due in the next 24 h, but it runs
    assert any("events.ics not written" in r.getMessage() for r in caplog.records)
