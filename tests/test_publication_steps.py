"""Publications that go out in steps: recorded in the store, resumed after a crash, never missed.

The stepwise connector here is the e-mail one, on a scripted SMTP server
(tests/fakesmtp.py) patched in for ``smtplib.SMTP``.
"""

from __future__ import annotations

import smtplib
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.progress import StepState
from crosspost.loading.project import Project, load_project
from crosspost.loading.settings import SecretSource
from crosspost.planning.checking import check_project
from crosspost.publishing.outcome import idempotency_key
from crosspost.publishing.publisher import Publisher
from crosspost.rendering.target import render_publication
from crosspost.status import Status
from crosspost.store import PlannedRow, Publication, Store
from crosspost.store.steps import load_steps, record_step
from tests.fakes import FakeClock
from tests.fakesmtp import FakeServer

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=10)


def write_newsletter(base: Path, listing: str, **settings: object) -> Path:
    (base / "list.txt").write_text(listing, encoding="utf-8")
    extra = "".join(f"    {key}: {value}\n" for key, value in settings.items())
    text = textwrap.dedent(
        """\
        timezone: UTC
        accounts:
          news:
            connector: email
            host: smtp.example.org
            username: news@example.org
            password: ${SMTP_PASSWORD}
            from_address: news@example.org
            recipients: list.txt
        """
    )
    text += extra + textwrap.dedent(
        """\
        content:
          - id: hello
            title: Open night
            body: "Open night on **Friday**: [details](https://example.org/n)."
        posts:
          - id: launch
            content: hello
            to: [news]
            at: 2026-03-01 12:00
        """
    )
    path = base / "schedule.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class World:
    project: Project
    store: Store
    server: FakeServer
    clock: FakeClock
    publisher: Publisher

    def plan(self, grace: timedelta = timedelta(hours=1), due: datetime = T0) -> Publication:
        planned = PlannedRow("launch", "o1", "news", "hello", due, due + grace)
        self.store.add_planned([planned], due)
        row = self.store.find("launch", "o1", "news")
        assert row is not None
        return row

    def row(self) -> Publication:
        row = self.store.find("launch", "o1", "news")
        assert row is not None
        return row


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    server = FakeServer(credentials=("news@example.org", "pw"))
    monkeypatch.setattr(smtplib, "SMTP", server.factory)
    path = write_newsletter(tmp_path, "ann@example.org\nbob@example.org\ncid@example.org\n")
    project = load_project(path, SecretSource(environ={"SMTP_PASSWORD": "pw"}))
    store = Store(f"sqlite:///{tmp_path}/x.db")
    clock = FakeClock(T0)
    yield World(project, store, server, clock, Publisher(store, project, clock=clock))
    store.close()


def test_a_step_is_recorded_only_by_the_claim_holder_and_renews_it(world: World) -> None:
    row = world.plan()
    assert row.id is not None
    assert not record_step(world.store, row.id, "w1", "a", "started", "", T0, LEASE)
    (claimed,) = world.store.claim_due(T0, "w1", timedelta(seconds=30))
    later = T0 + timedelta(minutes=1)
    assert record_step(world.store, row.id, "w1", "a", "started", "", later, LEASE)
    assert record_step(world.store, row.id, "w1", "a", "done", "250 ok", later, LEASE)
    assert not record_step(world.store, row.id, "w2", "b", "started", "", later, LEASE)
    assert load_steps(world.store, row.id) == {"a": ("done", "250 ok")}
    claimed_until = world.row().claimed_until
    assert claimed_until is not None
    assert claimed_until.replace(tzinfo=UTC) == later + LEASE


def test_the_email_is_rendered_in_html_with_a_plain_alternative(world: World) -> None:
    post = render_publication(world.project, world.plan())
    assert "<b>Friday</b>" in post.text and '<a href="https://example.org/n">' in post.text
    assert post.alternative.startswith("Open night on Friday: details (https://example.org/n).")


def test_a_newsletter_records_a_step_per_recipient(world: World) -> None:
    world.server.rcpt_replies["bob@example.org"] = (550, b"5.1.1 no such user")
    row = world.plan()
    (outcome,) = world.publisher.run_due()
    assert outcome.status == Status.PUBLISHED
    assert outcome.error is not None and outcome.error.startswith("sent to 2 of 3, 1 refused")
    assert row.id is not None
    states = {name: state for name, (state, _) in load_steps(world.store, row.id).items()}
    assert states == {
        "ann@example.org": "done",
        "bob@example.org": "refused",
        "cid@example.org": "done",
    }
    assert world.row().error == outcome.error  # the note stays with the publication


def test_a_crashed_send_resumes_without_resending(world: World) -> None:
    """The worker died after ann was accepted, while bob's final line was on the wire."""
    row = world.plan()
    assert row.id is not None
    world.store.claim_due(T0, "dead-worker", timedelta(seconds=30))
    world.store.start_sending(row.id, "dead-worker", T0, timedelta(seconds=30))
    record_step(world.store, row.id, "dead-worker", "ann@example.org", "done", "250", T0, LEASE)
    record_step(world.store, row.id, "dead-worker", "bob@example.org", "started", "", T0, LEASE)
    world.clock.advance(LEASE + timedelta(minutes=1))
    outcomes = world.publisher.run_due()
    # the lease ran out: the row is queued again (not left unknown) and resumes at once
    assert [o.status for o in outcomes][-1] == Status.PUBLISHED
    assert world.server.recipients() == ["cid@example.org"]
    note = world.row().error
    assert note is not None and "1 uncertain: bob@example.org" in note


def test_a_paced_newsletter_is_never_missed(world: World, tmp_path: Path) -> None:
    path = write_newsletter(tmp_path, "ann@example.org\nbob@example.org\n", max_per_minute=1)
    world.publisher.project = load_project(path, SecretSource(environ={"SMTP_PASSWORD": "pw"}))
    # the connector paces by the wall clock, as it reads a server's time
    world.clock.now = now = datetime.now(UTC)
    world.plan(grace=timedelta(seconds=30), due=now)
    (first,) = world.publisher.run_due()
    assert first.status == Status.PLANNED and "paced at 1 a minute" in (first.error or "")
    assert world.row().attempts == 0  # a rate limit is not a try...
    world.clock.advance(timedelta(minutes=5))  # ...and the grace is long gone
    outcomes = world.publisher.run_due()
    assert [o.status for o in outcomes] == [Status.PUBLISHED]
    assert world.server.recipients() == ["ann@example.org", "bob@example.org"]


def test_check_reports_a_bad_recipient_at_its_line(tmp_path: Path) -> None:
    path = write_newsletter(tmp_path, "ann@example.org\n\nbob@exampleorg\n")
    project = load_project(path, SecretSource(environ={"SMTP_PASSWORD": "pw"}))
    problems = check_project(project, T0 - timedelta(days=1))
    assert [str(p) for p in problems] == [
        "list.txt:3:1: 'bob@exampleorg': 'exampleorg' is not a valid domain"
    ]


def test_the_key_and_steps_match_what_the_publisher_sends(world: World) -> None:
    row = world.plan()
    world.publisher.run_due()
    key = idempotency_key("launch", "o1", "news")
    assert world.row().remote_id == f"{key}@example.org"
    ids = {str(m["Message-ID"]) for m in world.server.messages()}
    assert all(i.startswith(f"<{key}.") for i in ids) and len(ids) == 3
    assert row.id is not None
    assert {s for s, _ in load_steps(world.store, row.id).values()} == {StepState.DONE.value}
