"""The community manager's week against the local mock Mastodon server (real HTTP on 127.0.0.1):
a member asks, `collect` brings it into the inbox, `reply` answers it in its thread once,
the report counts it answered, and `doctor` checks the account without posting.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import Result

from crosspost.collecting.metrics import MetricsCollector
from crosspost.loading.project import load_project
from crosspost.store import Store
from tests.conftest import write_file
from tests.mockplatform import MockMastodon

OWNER, MEMBER = "owner-token", "member-token"


@pytest.fixture
def server() -> Iterator[MockMastodon]:
    with MockMastodon(tokens=(OWNER, MEMBER)) as running:
        yield running


@pytest.fixture
def schedule(tmp_path: Path, server: MockMastodon, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOCIAL_TOKEN", OWNER)
    return write_file(
        tmp_path / "schedule.yaml",
        f"""\
        timezone: UTC
        accounts:
          social:
            connector: mastodon
            instance: {server.url}
            access_token: ${{SOCIAL_TOKEN}}
        posts: []
        """,
    )


def _member_says(server: MockMastodon, text: str, reply_to: str | None = None) -> dict[str, Any]:
    form = {"status": text, **({"in_reply_to_id": reply_to} if reply_to else {})}
    answer = requests.post(
        f"{server.url}/api/v1/statuses",
        data=form,
        headers={"Authorization": f"Bearer {MEMBER}"},
        timeout=10,
    )
    answer.raise_for_status()
    body: dict[str, Any] = answer.json()
    return body


def _collect(schedule: Path, run_cli: Callable[..., Result]) -> int:
    """One collect round; the interactions it stored (the mock lists no followers: that
    step fails, the inbox step does not)."""
    (account,) = json.loads(run_cli(schedule, "collect", "--once", "--json").stdout)["accounts"]
    assert set(account["errors"]) <= {"followers"}, account["errors"]
    return int(account["interactions"])


def _json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_question_is_collected_answered_once_and_counted(
    server: MockMastodon, schedule: Path, run_cli: Callable[..., Result]
) -> None:
    question = _member_says(server, "@crosspost_mock is the café open on Sunday?")
    _member_says(server, "a post that names nobody")

    assert _collect(schedule, run_cli) == 1
    (item,) = _json(run_cli(schedule, "inbox", "--json"))["items"]
    assert (item["author"], item["kind"]) == ("@crosspost_mock2", "mention")

    first = _json(run_cli(schedule, "reply", str(item["id"]), "Yes, from **10 am**!", "--json"))
    again = run_cli(schedule, "reply", str(item["id"]), "Yes, from **10 am**!", "--json")

    assert first["status"] == "published" and again.exit_code == 0
    answers = [s for s in server.statuses if s["in_reply_to_id"] == question["id"]]
    assert len(answers) == 1  # the second run sent nothing
    assert answers[0]["account"]["username"] == "crosspost_mock"
    assert answers[0]["content"] == "<p>@crosspost_mock2 Yes, from 10 am!</p>"
    assert answers[0]["idempotency_key"].startswith("crosspost-")
    assert _json(run_cli(schedule, "inbox", "--unanswered", "--json"))["items"] == []

    later = datetime.now(UTC) + timedelta(hours=2)  # the inbox is due again by then
    store = Store(f"sqlite:///{schedule.parent / 'x.db'}")
    again_round = MetricsCollector(store, load_project(schedule), clock=lambda: later).run_due()
    store.close()
    assert [a.interactions for a in again_round.accounts] == [0]  # our answer is not a member's
    report = _json(run_cli(schedule, "report", "--since", "1d", "--format", "json"))
    (social,) = report["responses"]
    assert (social["received"], social["answered"], social["questions"]) == (1, 1, 1)
    assert report["posts"] == []  # an answer is not a post


def test_doctor_checks_the_account_with_reads_only(
    server: MockMastodon, schedule: Path, run_cli: Callable[..., Result]
) -> None:
    (social,) = _json(run_cli(schedule, "doctor", "--json"))["accounts"]
    assert (social["status"], social["identity"]) == ("ok", "@crosspost_mock@127.0.0.1")
    assert social["scopes"] == ["read", "write"]
    assert social["rate"]["limit"] == 300
    assert social["limits"]["source"] == "reported"
    assert {r.method for r in server.requests} == {"GET"}
