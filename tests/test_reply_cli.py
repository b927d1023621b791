"""`crosspost reply`: an inbox item answered in its thread, once, and marked answered."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
import responses
from click.testing import Result
from requests import PreparedRequest

from connectors.base import InboxItem
from crosspost.cli import reply as reply_cli
from crosspost.loading.project import load_project
from crosspost.publishing.publisher import Publisher
from crosspost.publishing.replies import interaction_of, reply_entry
from crosspost.status import Status
from crosspost.store import Store
from crosspost.store.collect_inbox import save_inbox
from crosspost.store.inbox import inbox_entries
from crosspost.store.reports import published_posts
from tests.conftest import write_file
from tests.contract.harness import fixture

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
HOST = "https://social.example"
STATUSES = f"{HOST}/api/v1/statuses"

SCHEDULE = f"""\
timezone: Europe/Berlin
accounts:
  social:
    connector: mastodon
    instance: {HOST}
    access_token: ${{SOCIAL_TOKEN}}
  club:
    connector: folder
    path: out/club
posts: []
"""


@pytest.fixture
def schedule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(reply_cli, "_now", lambda: NOW)
    monkeypatch.setenv("SOCIAL_TOKEN", "token-for-tests")
    return write_file(tmp_path / "schedule.yaml", SCHEDULE)


@pytest.fixture
def store(tmp_path: Path, schedule: Path) -> Iterator[Store]:
    opened = Store(f"sqlite:///{tmp_path / 'x.db'}")  # the database run_cli uses
    yield opened
    opened.close()


def _item(remote_id: str, text: str, visibility: str = "public") -> InboxItem:
    return InboxItem(
        remote_id=remote_id,
        kind="mention",
        author="@ada@elsewhere.example",
        author_id="77",
        text=text,
        url=f"https://elsewhere.example/@ada/{remote_id}",
        created_at=NOW - timedelta(hours=3),
        raw={"notification_id": "9", "visibility": visibility},
    )


@pytest.fixture
def items(store: Store) -> Store:
    """#1 and #2 on the Mastodon account, #3 on the folder account (it cannot reply)."""
    save_inbox(
        store,
        "social",
        "mastodon",
        [_item("1101", "Is the café open on Sunday?"), _item("1102", "psst", "direct")],
        "9",
        NOW - timedelta(hours=1),
    )
    save_inbox(store, "club", "folder", [_item("x1", "hi")], None, NOW)
    return store


def _status(text: str, reply_to: str) -> dict[str, object]:
    body = dict(fixture("mastodon", "status"))
    return {**body, "id": "113500000000000001", "in_reply_to_id": reply_to, "content": text}


def _form_has(*fields: tuple[str, str]) -> Callable[[PreparedRequest], tuple[bool, str]]:
    """A matcher: the form body holds these fields (and maybe others)."""

    def match(request: PreparedRequest) -> tuple[bool, str]:
        body = request.body
        text = body.decode() if isinstance(body, bytes) else str(body or "")
        sent = set(parse_qsl(text, keep_blank_values=True))
        missing = set(fields) - sent
        return not missing, f"missing {sorted(missing)} in {sorted(sent)}"

    return match


def _mock_reply(rsps: responses.RequestsMock, *fields: tuple[str, str]) -> None:
    rsps.get(f"{HOST}/api/v2/instance", json=fixture("mastodon", "instance"))
    rsps.post(STATUSES, json=_status("answer", "1101"), match=[_form_has(*fields)])


def test_an_answer_goes_out_in_the_thread_once_and_marks_the_item_answered(
    schedule: Path, items: Store, run_cli: Callable[..., Result]
) -> None:
    answer = "@ada@elsewhere.example Yes, from **10 am**."
    with responses.RequestsMock() as rsps:
        _mock_reply(
            rsps, ("status", "@ada@elsewhere.example Yes, from 10 am."), ("in_reply_to_id", "1101")
        )
        first = run_cli(schedule, "reply", "1", "Yes, from **10 am**.", "--json")
        again = run_cli(schedule, "reply", "1", "Yes, from **10 am**.", "--json")
        sent = [c.request for c in rsps.calls if c.request.method == "POST"]

    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["status"] == "published"
    assert json.loads(first.stdout)["text"] == answer.replace("**", "")
    assert again.exit_code == 0, again.output
    assert "already answered" in json.loads(again.stdout)["error"]
    assert len(sent) == 1 and sent[0].headers["Idempotency-Key"].startswith("crosspost-")
    answered = {i.id: i.answered_at for i in inbox_entries(items)}
    assert answered[1] is not None and answered[2] is None


def test_an_answer_to_a_direct_message_stays_direct(
    schedule: Path, items: Store, run_cli: Callable[..., Result]
) -> None:
    with responses.RequestsMock() as rsps:
        _mock_reply(rsps, ("visibility", "direct"), ("in_reply_to_id", "1102"))
        result = run_cli(schedule, "reply", "2", "@ada@elsewhere.example thanks!")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("published #2 → social (mastodon)")


def test_a_dry_run_shows_the_answer_and_its_length_and_sends_nothing(
    schedule: Path, items: Store, run_cli: Callable[..., Result]
) -> None:
    with responses.RequestsMock():  # any request would fail the test
        result = run_cli(schedule, "reply", "1", "See [the hours](https://club.org/h)", "--dry-run")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "answer to #1 from @ada@elsewhere.example on social (mastodon), not sent:"
    # the handle counts as "@ada" and the URL as 23, as Mastodon counts them
    assert lines[1] == "— 44/500 characters —"
    assert lines[2] == "@ada@elsewhere.example See the hours (https://club.org/h)"
    assert all(i.answered_at is None for i in inbox_entries(items))


def test_an_answer_read_from_a_file(
    schedule: Path, items: Store, run_cli: Callable[..., Result], tmp_path: Path
) -> None:
    answer = write_file(tmp_path / "answer.md", "Yes!\n\n- coffee\n- cake\n")
    result = run_cli(schedule, "reply", "1", "--file", str(answer), "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["text"] == "@ada@elsewhere.example Yes!\n\n• coffee\n• cake"
    assert (shown["status"], shown["limit"], shown["unit"]) == ("dry-run", 500, "characters")


def test_a_too_long_answer_is_refused_before_anything_is_sent(
    schedule: Path, items: Store, run_cli: Callable[..., Result]
) -> None:
    with responses.RequestsMock():  # checked with the limits known: nothing is asked
        dry = run_cli(schedule, "reply", "1", "a" * 600, "--dry-run")
        real = run_cli(schedule, "reply", "1", "a" * 600)
    assert dry.exit_code == 2 and "problem: text is 605 characters long" in dry.stdout
    assert real.exit_code == 2 and "at most 500 on mastodon" in real.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("5", "hi"), "no inbox item #5; did you mean #3 or #2 or #1?"),
        (("3", "hi"), "account 'club' (folder) cannot reply through crosspost"),
        (("1", "   "), "the answer is empty"),
    ],
)
def test_bad_input_exits_2_with_a_hint(
    schedule: Path,
    items: Store,
    run_cli: Callable[..., Result],
    args: tuple[str, ...],
    message: str,
) -> None:
    result = run_cli(schedule, "reply", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_text_and_file_together_is_a_usage_error(
    schedule: Path, items: Store, run_cli: Callable[..., Result]
) -> None:
    result = run_cli(schedule, "reply", "1", "hi", "--file", "answer.md")
    assert result.exit_code == 2 and "not both" in result.output


def test_a_failed_answer_is_retried_as_an_answer_never_as_a_post(
    schedule: Path, items: Store, run_cli: Callable[..., Result]
) -> None:
    with responses.RequestsMock() as rsps:
        rsps.get(f"{HOST}/api/v2/instance", json=fixture("mastodon", "instance"))
        rsps.post(STATUSES, status=503, json={"error": "busy"})
        result = run_cli(schedule, "reply", "1", "Yes!")
    assert result.exit_code == 1 and "not sent yet" in result.output

    later = NOW + timedelta(hours=2)
    publisher = Publisher(items, load_project(schedule), clock=lambda: later)
    with responses.RequestsMock() as rsps:
        _mock_reply(rsps, ("in_reply_to_id", "1101"), ("status", "@ada@elsewhere.example Yes!"))
        outcomes = publisher.run_due()
    assert [(o.entry, o.status) for o in outcomes] == [(reply_entry(1), Status.PUBLISHED)]
    assert next(i for i in inbox_entries(items) if i.id == 1).answered_at is not None


def test_answers_are_not_posts_in_the_report(
    schedule: Path, items: Store, run_cli: Callable[..., Result]
) -> None:
    with responses.RequestsMock() as rsps:
        _mock_reply(rsps, ("in_reply_to_id", "1101"))
        assert run_cli(schedule, "reply", "1", "Yes!").exit_code == 0
    assert (
        published_posts(items, NOW - timedelta(days=1), NOW + timedelta(days=1), ["social"]) == []
    )


def test_reply_entries_name_their_item() -> None:
    assert interaction_of(reply_entry(42)) == 42
    assert interaction_of("publish:hello") is None
    assert interaction_of("reply:x") is None
