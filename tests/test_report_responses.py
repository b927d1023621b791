"""The report's response figures: answered items, time to first answer, waiting questions."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import Result

from connectors.base import InboxItem
from crosspost.cli import report as report_cli
from crosspost.publishing.replies import reply_entry
from crosspost.reporting.report_responses import ResponseFigures, is_question, response_figures
from crosspost.store import PlannedRow, Sent, Store
from crosspost.store.collect_inbox import save_inbox
from crosspost.store.inbox import mark_answered
from crosspost.store.report_source import StoreReportSource
from tests.conftest import write_file
from tests.report_sources import sources
from tests.test_store import pg_url  # noqa: F401 (the PostgreSQL fixture)

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
ACCOUNTS = {"club": "folder", "news": "folder"}

SCHEDULE = """\
timezone: UTC
accounts:
  club:
    connector: folder
    path: out/club
  news:
    connector: folder
    path: out/news
posts: []
"""


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("Is it open on Sunday?", True),
        ("When do we start? #cafe https://club.org/x @club@social.example", True),
        ("<@123456> can I bring a friend?", True),
        ("can I bring a friend? <@123456> <https://club.org>", True),
        ("Wait, really?!", True),
        ('He asked "why?"', True),
        ("Das ist gut？", True),
        ("Great news!", False),
        ("? is how you ask", False),
        ("@club", False),
        ("", False),
    ],
)
def test_a_question_ends_in_a_question_mark_once_mentions_and_links_are_set_aside(
    text: str, asks: bool
) -> None:
    assert is_question(text) is asks


def test_a_connector_may_mark_a_question_whatever_its_text() -> None:
    assert is_question("tell me the opening hours", flagged=True)


def _item(key: str, age: timedelta, text: str, question: bool = False) -> InboxItem:
    return InboxItem(
        remote_id=key,
        kind="mention",
        author=f"@{key}",
        author_id=key,
        text=text,
        url=None,
        created_at=NOW - age,
        question=question,
    )


def _answer(store: Store, item_id: int, at: datetime) -> None:
    """An answer sent through ``crosspost reply``, published at ``at``."""
    row = store.add_oneoff(
        PlannedRow(reply_entry(item_id), "h", "club", "crosspost-reply", at, at, message="ok"), at
    )
    assert row is not None and row.id is not None
    store.claim(row.id, "w", timedelta(minutes=5), at)
    store.finish(row.id, "w", at, Sent(f"r{item_id}", None, at))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """SQLite (the database run_cli uses) and, for the figures alone, PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'x.db'}"
    elif "run_cli" in request.fixturenames:
        pytest.skip("the CLI tests run on the SQLite file")
    else:
        url = request.getfixturevalue("pg_url")
    opened = Store(url)
    yield opened
    opened.close()


@pytest.fixture
def items(store: Store) -> Store:
    """Six items to ``club`` (ids 1–6), nothing to ``news``."""
    save_inbox(
        store,
        "club",
        "folder",
        [
            _item("a", timedelta(days=3), "Is it open on Sunday?"),
            _item("b", timedelta(days=2), "Great evening @club"),
            _item("c", timedelta(days=2), "When do we start? #cafe https://club.org/x"),
            _item("d", timedelta(hours=2), "Really?"),
            _item("e", timedelta(days=40), "Anyone there?"),
            _item("f", timedelta(hours=30), "tell me the hours", question=True),
        ],
        None,
        NOW,
    )
    _answer(store, 1, NOW - timedelta(days=3) + timedelta(hours=2))  # a: 2 h
    mark_answered(store, [2], NOW - timedelta(days=2) + timedelta(hours=6))  # b: 6 h, by hand
    mark_answered(store, [1], NOW)  # marked later as well: the first answer counts
    return store


def _responses(store: Store, since: datetime, until: datetime) -> list[ResponseFigures]:
    """The figures read through the store, and on SQLite the same from the twins."""
    found = []
    for source in sources(store):
        found.append(response_figures(source, ACCOUNTS, since, until))
        if not isinstance(source, StoreReportSource):
            source.close()
    assert all(figures == found[0] for figures in found)
    return found[0]


def test_answered_items_median_first_answer_and_waiting_questions(items: Store) -> None:
    club, news = _responses(items, NOW - timedelta(days=7), NOW)

    assert (club.received, club.answered, club.answer_rate) == (5, 2, 0.4)  # e is older
    assert club.median_response_hours == pytest.approx(4.0)  # 2 h and 6 h
    assert club.questions == 4  # a, c, d and the marked f
    assert club.unanswered_questions == 2  # c and f; d is only two hours old
    assert (news.received, news.answered, news.answer_rate, news.median_response_hours) == (
        0,
        0,
        None,
        None,
    )


def test_an_answer_after_the_period_does_not_count_in_it(items: Store) -> None:
    until = NOW - timedelta(days=2) + timedelta(hours=1)  # after a's answer, before b's
    (club, _news) = _responses(items, NOW - timedelta(days=7), until)
    assert (club.received, club.answered, club.median_response_hours) == (3, 1, 2.0)
    assert club.unanswered_questions == 0  # c was written only an hour before the end


@pytest.fixture
def schedule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(report_cli, "_now", lambda: NOW)
    return write_file(tmp_path / "schedule.yaml", SCHEDULE)


def test_every_report_format_has_the_response_figures(
    schedule: Path, items: Store, run_cli: Callable[..., Result]
) -> None:
    data = json.loads(run_cli(schedule, "report", "--since", "7d", "--format", "json").stdout)
    club = next(row for row in data["responses"] if row["account"] == "club")
    assert club == {
        "account": "club",
        "platform": "folder",
        "received": 5,
        "answered": 2,
        "answer_rate": 0.4,
        "median_response_hours": 4.0,
        "questions": 4,
        "unanswered_questions": 2,
    }

    rows = csv.DictReader(io.StringIO(run_cli(schedule, "report", "--format", "csv").stdout))
    responses = [r for r in rows if r["section"] == "responses"]
    assert [(r["account"], r["unanswered_questions"]) for r in responses] == [
        ("club", "2"),
        ("news", "0"),
    ]

    table = run_cli(schedule, "report", "--format", "plain").stdout
    assert "Answering members" in table and "4.0 h" in table

    page = run_cli(schedule, "report", "--format", "html").stdout
    assert 'id="responses-table"' in page and "4.0 h" in page
    assert '<b id="waiting-questions">2</b>' in page


def test_since_leaves_older_items_out(
    schedule: Path, items: Store, run_cli: Callable[..., Result]
) -> None:
    data = json.loads(run_cli(schedule, "report", "--since", "1d", "--format", "json").stdout)
    club = next(row for row in data["responses"] if row["account"] == "club")
    # d (2 h) is the only item of the last day; f (30 h) is just outside
    assert (club["received"], club["questions"], club["unanswered_questions"]) == (1, 1, 0)
