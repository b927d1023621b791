"""`crosspost inbox`: what members wrote, newest first, with our post and whether we answered."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import inspect

from connectors.base import InboxItem
from crosspost.cli import inbox as inbox_cli
from crosspost.store import Store
from crosspost.store.collect_inbox import save_inbox
from crosspost.store.inbox import inbox_entries, mark_answered
from crosspost.store.records import Sent
from tests.conftest import write_file
from tests.test_metrics_collect import published

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)

SCHEDULE = """\
timezone: Europe/Berlin
accounts:
  club:
    connector: folder
    path: out/club
  news:
    connector: folder
    path: out/news
content:
  - id: hello
    title: Hello world
    body: We are open.
posts:
  - id: e
    content: hello
    to: [club, news]
    at: 2026-06-01 10:00
"""


@pytest.fixture
def schedule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(inbox_cli, "_now", lambda: NOW)
    return write_file(tmp_path / "schedule.yaml", SCHEDULE)


@pytest.fixture
def store(tmp_path: Path, schedule: Path) -> Iterator[Store]:
    opened = Store(f"sqlite:///{tmp_path / 'x.db'}")  # the database run_cli uses
    yield opened
    opened.close()


def _published(store: Store, account: str, remote_id: str) -> int:
    at = NOW - timedelta(days=9)
    publication_id = published(store, account, remote_id, at)
    url = f"https://social.example/{remote_id}"
    store.resolve(publication_id, at, Sent(remote_id, url, at, thread_ids=(remote_id,)))
    return publication_id


def _item(remote_id: str, hours_ago: float, text: str, reply_to: str | None = None) -> InboxItem:
    return InboxItem(
        remote_id=remote_id,
        kind="reply" if reply_to else "mention",
        author=f"@member{remote_id}",
        author_id=remote_id,
        text=text,
        url=f"https://social.example/m/{remote_id}",
        created_at=NOW - timedelta(hours=hours_ago),
        in_reply_to=reply_to,
    )


@pytest.fixture
def filled(store: Store) -> Store:
    """Four items on two accounts, stored the way the collector stores them."""
    _published(store, "club", "p1")
    _published(store, "news", "p2")
    save_inbox(
        store,
        "club",
        "folder",
        [_item("a", 3, "Is it open on Sunday?", "p1"), _item("b", 50, "Great news!")],
        "c1",
        NOW - timedelta(hours=1),
    )
    save_inbox(
        store,
        "news",
        "folder",
        [_item("c", 0.5, "Line one\twith a tab\nline two", "p2"), _item("d", 24 * 20, "old")],
        "c2",
        NOW,
    )
    return store


def _json(result: Result) -> list[dict[str, object]]:
    assert result.exit_code == 0, result.output
    items: list[dict[str, object]] = json.loads(result.stdout)["items"]
    return items


def test_newest_first_with_the_post_it_answers_and_how_long_ago(
    schedule: Path, filled: Store, run_cli: Callable[..., Result]
) -> None:
    items = _json(run_cli(schedule, "inbox", "--json"))

    assert [i["author"] for i in items] == ["@memberc", "@membera", "@memberb", "@memberd"]
    assert [i["ago"] for i in items] == ["30m", "3h", "2d", "2w"]
    first = items[1]
    assert first["entry"] == "e" and first["title"] == "Hello world"
    assert first["post_url"] == "https://social.example/p1"
    assert first["answered_at"] is None
    assert items[2]["entry"] is None  # a mention that answers no post of ours


def test_plain_listing_reads_like_an_inbox(
    schedule: Path, filled: Store, run_cli: Callable[..., Result]
) -> None:
    result = run_cli(schedule, "inbox", "--account", "club")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].endswith("3h ago  club (folder)  reply from @membera  [unanswered]")
    assert lines[1] == "  Is it open on Sunday?"
    assert lines[2] == '  ↳ on e "Hello world" https://social.example/p1'
    assert lines[-1] == "2 items, 2 unanswered"


def test_marked_answered_items_leave_the_unanswered_list(
    schedule: Path, filled: Store, run_cli: Callable[..., Result]
) -> None:
    reply = next(i for i in inbox_entries(filled) if i.author == "@membera")

    marked = run_cli(schedule, "inbox", "--mark-answered", str(reply.id))
    assert marked.exit_code == 0, marked.output

    waiting = _json(run_cli(schedule, "inbox", "--unanswered", "--json"))
    assert "@membera" not in [i["author"] for i in waiting] and len(waiting) == 3
    every = _json(run_cli(schedule, "inbox", "--json"))
    answered = next(i for i in every if i["author"] == "@membera")
    assert answered["answered_at"] == NOW.isoformat()
    # the first answer's time is kept
    assert mark_answered(filled, [reply.id], NOW + timedelta(days=1)) == [reply.id]
    assert inbox_entries(filled, ["club"])[0].answered_at == NOW


def test_since_limit_and_tsv(schedule: Path, filled: Store, run_cli: Callable[..., Result]) -> None:
    recent = _json(run_cli(schedule, "inbox", "--since", "1d", "--json"))
    assert [i["author"] for i in recent] == ["@memberc", "@membera"]
    assert len(_json(run_cli(schedule, "inbox", "--limit", "1", "--json"))) == 1

    tsv = run_cli(schedule, "inbox", "--format", "tsv", "--since", "1h")

    assert tsv.exit_code == 0, tsv.output
    header, row = tsv.stdout.splitlines()
    cells = dict(zip(header.split("\t"), row.split("\t"), strict=True))
    assert cells["text"] == "Line one with a tab line two"
    assert cells["title"] == "Hello world" and cells["account"] == "news"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--account", "clubb"), ['unknown account "clubb"', 'did you mean "club"?']),
        (("--since", "lately"), ["--since", "neither a duration"]),
        (("--mark-answered", "999"), ["no inbox item 999"]),
    ],
)
def test_bad_options_exit_2(
    schedule: Path,
    filled: Store,
    run_cli: Callable[..., Result],
    args: tuple[str, ...],
    words: list[str],
) -> None:
    result = run_cli(schedule, "inbox", *args)

    assert result.exit_code == 2
    for word in words:
        assert word in result.stderr


def test_an_empty_inbox_says_so(
    schedule: Path, store: Store, run_cli: Callable[..., Result]
) -> None:
    result = run_cli(schedule, "inbox")
    assert result.exit_code == 0 and "nothing in the inbox" in result.stdout


def test_no_database_yet_is_an_empty_inbox_and_creates_none(
    schedule: Path, run_cli: Callable[..., Result]
) -> None:
    result = run_cli(schedule, "inbox")
    assert result.exit_code == 0 and "nothing in the inbox" in result.stdout
    marked = run_cli(schedule, "inbox", "--mark-answered", "3")
    assert marked.exit_code == 2 and "no inbox item 3" in marked.stderr
    assert not (schedule.parent / "x.db").exists()


def test_the_migration_adds_answered_at(store: Store) -> None:
    columns = {c["name"] for c in inspect(store.engine).get_columns("interaction")}
    assert "answered_at" in columns
