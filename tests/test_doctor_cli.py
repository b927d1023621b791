"""`crosspost doctor`: every account checked with reads only, its server's limits kept."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import responses
from click.testing import Result

from crosspost.loading.limits import apply_reported_limits
from crosspost.loading.project import load_project
from crosspost.store import Store
from tests.conftest import write_file
from tests.contract.harness import fixture

HOST = "https://social.example"
SCHEDULE = f"""\
timezone: UTC
accounts:
  social:
    connector: mastodon
    instance: {HOST}
    access_token: ${{SOCIAL_TOKEN}}
  archive:
    connector: folder
    path: out/archive
posts: []
"""
RATE = {
    "X-RateLimit-Limit": "300",
    "X-RateLimit-Remaining": "297",
    "X-RateLimit-Reset": "2026-11-21T08:20:00.000000Z",
}


@pytest.fixture
def schedule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOCIAL_TOKEN", "token-for-tests")
    return write_file(tmp_path / "schedule.yaml", SCHEDULE)


def _mastodon(rsps: responses.RequestsMock, status: int = 200) -> None:
    instance = fixture("mastodon", "instance")
    instance["configuration"]["statuses"]["max_characters"] = 1000
    rsps.get(f"{HOST}/api/v2/instance", json=instance)
    account = (
        fixture("mastodon", "account")
        if status == 200
        else {"error": "The access token is invalid"}
    )
    rsps.get(
        f"{HOST}/api/v1/accounts/verify_credentials", json=account, status=status, headers=RATE
    )
    if status == 200:
        rsps.get(
            f"{HOST}/api/v1/apps/verify_credentials", json=fixture("mastodon", "app_credentials")
        )


def test_every_account_is_checked_and_the_servers_limits_are_kept(
    schedule: Path, run_cli: Callable[..., Result], tmp_path: Path
) -> None:
    with responses.RequestsMock() as rsps:
        _mastodon(rsps)
        result = run_cli(schedule, "doctor")
        methods = {call.request.method for call in rsps.calls}

    assert result.exit_code == 0, result.output
    assert methods == {"GET"}  # nothing posted
    assert "checking archive (1/2)…" in result.stderr and "checking social (2/2)…" in result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ok        archive (folder) ")
    social = lines.index("ok        social (mastodon) @rivertown@social.example")
    assert "          limits: 1000 characters (reported by its server at" in lines[social + 1]
    assert lines[social + 2] == "          rate: 297 of 300 requests left, window resets 08:20:00Z"
    assert lines[social + 3] == "          scopes: read write:media write:statuses"
    assert lines[-1] == "2 of 2 accounts without problems"

    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    project = load_project(schedule)
    assert "social" in apply_reported_limits(store, project)  # what check counts with
    assert project.connector("social").effective_limits.max_length == 1000
    store.close()


def test_json_has_identity_limits_rate_and_capabilities(
    schedule: Path, run_cli: Callable[..., Result]
) -> None:
    with responses.RequestsMock() as rsps:
        _mastodon(rsps)
        result = run_cli(schedule, "doctor", "--account", "social", "--json")
    assert result.exit_code == 0, result.output
    (social,) = json.loads(result.stdout)["accounts"]
    assert (social["status"], social["identity"]) == ("ok", "@rivertown@social.example")
    assert social["limits"]["max_length"] == 1000 and social["limits"]["source"] == "reported"
    assert social["rate"]["remaining"] == 297 and social["rate"]["limit"] == 300
    assert social["rate"]["unit"] == "requests"
    assert "reply" in social["capabilities"] and "inbox" in social["capabilities"]
    assert social["problems"] == []


def test_refused_credentials_are_a_problem_and_exit_1(
    schedule: Path, run_cli: Callable[..., Result]
) -> None:
    with responses.RequestsMock() as rsps:
        _mastodon(rsps, status=401)
        result = run_cli(schedule, "doctor")
    assert result.exit_code == 1
    assert "PROBLEM   social (mastodon)" in result.stdout
    assert "✗ the credentials do not work" in result.stdout
    assert "token-for-tests" not in result.output  # the secret never shows
    assert result.stdout.splitlines()[-1] == "1 of 2 accounts without problems"


def test_an_unknown_account_is_bad_input(schedule: Path, run_cli: Callable[..., Result]) -> None:
    result = run_cli(schedule, "doctor", "--account", "socail")
    assert result.exit_code == 2
    assert 'unknown account "socail"' in result.output and 'did you mean "social"?' in result.output
