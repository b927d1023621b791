"""A token from the environment never shows up anywhere crosspost writes or prints."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner, Result

from connectors.base import ConnectorError, RenderedPost
from crosspost.cli import cli
from crosspost.publishing.daemon import Daemon
from crosspost.store import Store
from tests.contract.harness import fixture

TOKEN = "s3cr3t-mastodon-token-7f1e0c2b9a"
HOST = "https://social.example"
SCHEDULE = """\
timezone: UTC
accounts:
  social:
    connector: mastodon
    instance: https://social.example
    access_token: ${MASTODON_TOKEN}
content:
  - id: hello
    title: Hello
    body: Hello from the makerspace.
posts:
  - id: one
    content: hello
    to: [social]
    at: 2026-01-01 10:00
    grace: 5000d
  - id: two
    content: hello
    to: [social]
    at: 2026-01-02 10:00
    grace: 5000d
  - id: three
    content: hello
    to: [social]
    at: 2026-01-03 10:00
    grace: 5000d
"""


@pytest.fixture
def base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    monkeypatch.delenv("CROSSPOST_DATABASE_URL", raising=False)
    (tmp_path / "schedule.yaml").write_text(SCHEDULE, encoding="utf-8")
    return tmp_path


@pytest.fixture
def mastodon() -> Iterator[responses.RequestsMock]:
    """The first status goes out, the second is refused for a revoked token (401)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{HOST}/api/v2/instance", json=fixture("mastodon", "instance"))
        mock.post(f"{HOST}/api/v1/statuses", json=fixture("mastodon", "status"))
        mock.post(
            f"{HOST}/api/v1/statuses", status=401, json=fixture("mastodon", "error_unauthorized")
        )
        yield mock


def run(base: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["-s", str(base / "schedule.yaml"), "--database", f"sqlite:///{base}/x.db", *args]
    )


def assert_no_token(where: str, text: str | bytes) -> None:
    needle: str | bytes = TOKEN.encode() if isinstance(text, bytes) else TOKEN
    assert needle not in text, f"the token leaked into {where}"


def test_the_token_is_never_written_or_printed(
    base: Path, mastodon: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store = Store(f"sqlite:///{base}/x.db")
    daemon = Daemon(base / "schedule.yaml", store)
    outcomes = daemon.run_once()
    statuses = sorted((o.entry, o.status) for o in outcomes)
    assert statuses == [("one", "published"), ("two", "failed")]  # "three" held, never claimed
    assert [p.status for p in store.publications() if p.entry == "three"] == ["planned"]
    # the token was sent, as a header, to the platform only
    posts = [c for c in mastodon.calls if c.request.method == "POST"]
    assert posts[0].request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert posts[0].request.headers["Idempotency-Key"].startswith("crosspost-")

    failed = next(o for o in outcomes if o.status == "failed")
    assert failed.error and "401" in failed.error
    for outcome in outcomes:
        assert_no_token("an outcome", repr(outcome))
    assert_no_token("captured logs", caplog.text)
    for record in caplog.records:
        assert_no_token("a log record", record.getMessage())
        if record.exc_info:
            assert_no_token("a logged exception", repr(record.exc_info[1]))
    assert_no_token("the project repr", repr(daemon.project))
    assert_no_token("the store repr", repr(store))
    store.close()

    status = run(base, "status", "--json")
    assert status.exit_code == 1  # "two" failed
    assert '"status": "failed"' in status.stdout
    assert_no_token("status --json", status.stdout + status.stderr)
    table = run(base, "status")
    assert_no_token("status", table.stdout + table.stderr)

    check = run(base, "--log-level", "DEBUG", "check")
    assert_no_token("check", check.stdout + check.stderr)
    again = run(base, "--log-level", "DEBUG", "daemon", "--once")
    assert_no_token("daemon --once", again.stdout + again.stderr)

    for file in sorted(p for p in base.rglob("*") if p.is_file()):
        if file.name != "schedule.yaml":
            assert_no_token(str(file.relative_to(base)), file.read_bytes())


def test_connector_errors_do_not_carry_the_token(
    base: Path, mastodon: responses.RequestsMock
) -> None:
    from crosspost.loading.project import load_project

    project = load_project(base / "schedule.yaml")
    connector = project.connector("social")
    assert_no_token("the connector repr", repr(connector))
    assert_no_token("the settings repr", repr(project.accounts["social"]))
    connector.publish(RenderedPost(parts=("first",)), "crosspost-key-1")
    with pytest.raises(ConnectorError) as caught:
        connector.publish(RenderedPost(parts=("second",)), "crosspost-key-2")
    error = caught.value
    assert error.status == 401
    for text in (str(error), repr(error), repr(error.args), repr(vars(error))):
        assert_no_token("a connector error", text)
    cause = error.__cause__ or error.__context__
    if cause is not None:
        assert_no_token("the error's cause", str(cause))


def test_a_missing_token_is_reported_without_a_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MASTODON_TOKEN", raising=False)
    (tmp_path / "schedule.yaml").write_text(SCHEDULE, encoding="utf-8")
    result = run(tmp_path, "check")
    assert result.exit_code == 2
    assert (
        "schedule.yaml:6:19: accounts.social.access_token: environment variable "
        "MASTODON_TOKEN is not set (export it or add it to .env)"
    ) in result.stderr


def test_a_literal_token_in_the_schedule_is_refused(tmp_path: Path) -> None:
    (tmp_path / "schedule.yaml").write_text(
        SCHEDULE.replace("${MASTODON_TOKEN}", TOKEN), encoding="utf-8"
    )
    result = run(tmp_path, "check")
    assert result.exit_code == 2
    assert (
        "schedule.yaml:6:19: accounts.social.access_token: secrets go in the environment"
        in result.stderr
    )
    assert_no_token("check output", result.stdout + result.stderr)
