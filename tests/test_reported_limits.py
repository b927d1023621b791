"""Limits a server reported are kept in the store, and check, plan and publish count with them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import responses
from click.testing import CliRunner, Result

from connectors.mastodon import InstanceConfig
from crosspost.cli import cli
from crosspost.loading.project import load_project
from crosspost.publishing.publisher import Publisher
from crosspost.store import PlannedRow, Store
from crosspost.store.account_state import stored_limits
from tests.fakes import FakeClock

FIXTURES = Path(__file__).parent / "fixtures" / "mastodon"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SCHEDULE = """\
timezone: UTC
accounts:
  social:
    connector: mastodon
    instance: https://social.example
    access_token: ${{MASTODON_TOKEN}}
content:
  - id: short
    body: Hello from the makerspace.
  - id: long
    body: {long}
posts:
  - id: hello
    content: short
    to: [social]
    at: 2026-03-01 12:00
  - id: essay
    content: long
    to: [social]
    at: 2099-06-01 10:00
    utm: false
    thread: never
"""
LONG = "word " * 109 + "end."  # 549 characters: over the default 500, under the server's 600


def _fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture
def schedule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MASTODON_TOKEN", "token-for-tests")
    path = tmp_path / "schedule.yaml"
    path.write_text(SCHEDULE.format(long=json.dumps(LONG)), encoding="utf-8")
    return path


def _instance(max_characters: int) -> dict[str, Any]:
    body = _fixture("instance.json")
    body["configuration"]["statuses"]["max_characters"] = max_characters
    return body  # type: ignore[no-any-return]


def _publish_once(schedule: Path, store: Store) -> None:
    """A publish that talks to the server, which reports 600 characters."""
    store.add_planned([PlannedRow("hello", "o1", "social", "short", T0, T0.replace(hour=13))])
    publisher = Publisher(store, load_project(schedule), clock=FakeClock(T0))
    with responses.RequestsMock() as mock:
        mock.get("https://social.example/api/v2/instance", json=_instance(600))
        mock.post("https://social.example/api/v1/statuses", json=_fixture("status.json"))
        (outcome,) = publisher.run_due()
    assert outcome.status == "published"


def _cli(schedule: Path, store: Store, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-s", str(schedule), "--database", store.url, *args])


def test_check_and_plan_count_with_the_limit_the_server_reported(
    schedule: Path, tmp_path: Path
) -> None:
    store = Store(f"sqlite:///{tmp_path}/x.db")
    before = _cli(schedule, store, "check")
    assert before.exit_code == 2  # 549 > the default 500
    assert "social: 500 characters (built-in default)" in before.output
    _publish_once(schedule, store)
    (row,) = stored_limits(store).values()
    assert row.limits["max_characters"] == 600
    with responses.RequestsMock():  # nothing registered: check and plan ask no server
        after = _cli(schedule, store, "check")
        planned = _cli(schedule, store, "plan", "--until", "30000d", "--json")
    assert after.exit_code == 0, after.output
    assert "social: 600 characters (reported by its server at 2026-03-01 12:00Z)" in after.output
    essay = [p for p in json.loads(planned.output)["publications"] if p["entry"] == "essay"]
    assert essay[0]["limit"] == 600 and not essay[0]["problems"]
    sources = json.loads(_cli(schedule, store, "check", "--json").output)["limits"]
    assert sources[0]["source"] == "reported"


def test_limits_read_with_other_settings_are_not_used(
    schedule: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(f"sqlite:///{tmp_path}/x.db")
    _publish_once(schedule, store)
    schedule.write_text(
        schedule.read_text(encoding="utf-8").replace("social.example", "other.example"),
        encoding="utf-8",
    )
    result = _cli(schedule, store, "check")
    assert result.exit_code == 2
    assert "social: 500 characters (built-in default)" in result.output


def test_instance_config_survives_the_store() -> None:
    config = InstanceConfig.from_instance(_instance(600))
    assert InstanceConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(ValueError):
        InstanceConfig.from_dict({"max_characters": "many"})


def test_check_of_an_unreadable_database_counts_with_defaults(
    schedule: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"not a database, " * 100)
    args = ["-s", str(schedule), "--database", f"sqlite:///{broken}", "check"]
    done = CliRunner().invoke(cli, args)
    warning = "cannot be read (file is not a database); counting with known defaults"
    assert done.output.count(warning) == 1, done.output  # said once, with the driver's reason
    assert f"the database sqlite:///{broken}" in done.output
    assert "social: 500 characters (built-in default)" in done.output


def test_the_default_database_beside_the_schedule_is_named_when_it_cannot_be_read(
    schedule: Path,
) -> None:
    """A ``crosspost.db`` beside the schedule that is not a database (a stray file, a
    half-copied backup) is not silently ignored: ``check`` says so once, and goes on."""
    (schedule.parent / "crosspost.db").write_bytes(b"\x00garbage" * 64)
    done = CliRunner().invoke(cli, ["-s", str(schedule), "check"])
    assert done.exit_code == 2  # the fixture's over-long post, found as usual
    assert done.output.count("crosspost.db cannot be read (file is not a database)") == 1


def test_limits_follow_what_the_server_says_after_they_were_read(schedule: Path) -> None:
    # The connector keeps the limits it made; learning the server's must replace them.
    connector = load_project(schedule).connector("social")
    assert connector.effective_limits.max_length == 500
    assert connector.effective_limits is connector.effective_limits
    connector.use_reported_limits(InstanceConfig(max_characters=600).to_dict())  # type: ignore[attr-defined]
    assert connector.effective_limits.max_length == 600
    connector.instance = InstanceConfig(max_characters=700)  # type: ignore[attr-defined]
    assert connector.effective_limits.max_length == 700
