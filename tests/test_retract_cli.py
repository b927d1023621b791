"""``crosspost retract``: delete every part of a publication, keep it as ``retracted``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import responses
from click.testing import Result

from connectors.base import Rejected, Transient
from crosspost.store import PlannedRow, Store
from crosspost.store.records import Sent
from tests.fakes import FakePlatform, install, run_in, write_project

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakePlatform:
    return install(monkeypatch)


@pytest.fixture
def base(tmp_path: Path, fake: FakePlatform) -> Path:
    write_project(tmp_path, "[]", accounts=("alpha",), connector="fake-delete")
    return tmp_path


def run(base: Path, *args: str) -> Result:
    return run_in(base, "retract", *args)


def published(
    base: Path,
    account: str,
    entry: str,
    ids: list[str],
    n: int = 0,
    extra: dict[str, object] | None = None,
) -> int:
    """A publication of ``entry`` for ``account`` published as the thread ``ids``."""
    store = Store(f"sqlite:///{base}/x.db")
    try:
        occurrence = f"2026-03-01T12:{n:02d}"
        store.add_planned(
            [PlannedRow(entry, occurrence, account, "hello", T0, T0 + timedelta(hours=1))], T0
        )
        row = store.find(entry, occurrence, account)
        assert row is not None and row.id is not None
        url = f"https://fake.example/{ids[0]}"
        thread = tuple(ids) if len(ids) > 1 else ()
        sent = Sent(ids[0], url, T0, thread_ids=thread, extra=extra or {})
        store.resolve(row.id, T0, sent)
        return row.id
    finally:
        store.close()


def status_of(base: Path, publication_id: int) -> tuple[str, str | None, str | None]:
    store = Store(f"sqlite:///{base}/x.db")
    try:
        row = store.get(publication_id)
        assert row is not None
        return row.status, row.remote_id, row.error
    finally:
        store.close()


def test_retract_deletes_every_part_last_first_and_keeps_history(
    base: Path, fake: FakePlatform
) -> None:
    pid = published(base, "alpha", "launch", ["r1", "r2", "r3"])
    result = run(base, str(pid))
    assert result.exit_code == 0, result.output
    assert fake.delete_calls == ["r3", "r2", "r1"]
    assert status_of(base, pid) == ("retracted", "r1", None)


def test_delete_gets_what_the_connector_recorded_with_the_post(
    base: Path, fake: FakePlatform
) -> None:
    # e.g. a Telegram album: its other photos are messages of their own
    publication_id = published(base, "alpha", "album", ["m1"], extra={"album": ["m1", "m2"]})
    result = run(base, str(publication_id))
    assert result.exit_code == 0, result.output
    assert fake.delete_extras == [{"album": ["m1", "m2"]}]


def test_dry_run_deletes_nothing(base: Path, fake: FakePlatform) -> None:
    pid = published(base, "alpha", "launch", ["r1"])
    result = run(base, str(pid), "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    (shown,) = json.loads(result.output)["publications"]
    assert shown["status"] == "would be retracted" and shown["parts"] == ["r1"]
    assert fake.delete_calls == []
    assert status_of(base, pid)[0] == "published"


def test_part_already_gone_counts_as_deleted(base: Path, fake: FakePlatform) -> None:
    pid = published(base, "alpha", "launch", ["r1", "r2"])
    fake.delete_errors["r2"] = Rejected("not found", platform="fake-delete", status=404)
    assert run(base, str(pid)).exit_code == 0
    assert status_of(base, pid)[0] == "retracted"


def test_failed_part_leaves_it_published_with_the_reason_and_exit_1(
    base: Path, fake: FakePlatform
) -> None:
    pid = published(base, "alpha", "launch", ["r1", "r2"])
    fake.delete_errors["r1"] = Transient("HTTP 503", platform="fake-delete", status=503)
    result = run(base, str(pid), "--json")
    assert result.exit_code == 1
    (shown,) = json.loads(result.output)["publications"]
    assert shown["deleted"] == ["r2"] and "part 2 of 2 (r1)" in shown["error"]
    status, _, error = status_of(base, pid)
    assert status == "published" and error is not None and "HTTP 503" in error
    # running it again finishes the job: r2 is gone (404), r1 goes now
    fake.delete_errors["r2"] = Rejected("gone", platform="fake-delete", status=404)
    assert run(base, str(pid)).exit_code == 0
    assert status_of(base, pid)[0] == "retracted"


def test_filters_choose_published_posts_of_an_entry(base: Path, fake: FakePlatform) -> None:
    a = published(base, "alpha", "launch", ["a1"], 0)
    b = published(base, "alpha", "launch", ["b1"], 1)
    other = published(base, "alpha", "other", ["o1"], 2)
    result = run(base, "--entry", "launch", "--account", "alpha")
    assert result.exit_code == 0, result.output
    assert sorted(fake.delete_calls) == ["a1", "b1"]
    assert [status_of(base, i)[0] for i in (a, b, other)] == ["retracted", "retracted", "published"]


def test_many_at_once_need_force(base: Path, fake: FakePlatform) -> None:
    for n in range(6):
        published(base, "alpha", "launch", [f"p{n}"], n)
    refused = run(base, "--entry", "launch")
    assert refused.exit_code == 2 and "--force required" in refused.output
    assert fake.delete_calls == []
    assert run(base, "--entry", "launch", "--force").exit_code == 0
    assert len(fake.delete_calls) == 6


@pytest.mark.parametrize(
    ("args", "message"),
    [((), "give publication ids"), (("999",), "no publication 999")],
)
def test_bad_input_exits_2(base: Path, args: tuple[str, ...], message: str) -> None:
    published(base, "alpha", "launch", ["r1"])
    result = run(base, *args)
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output


def test_already_retracted_is_bad_input(base: Path) -> None:
    pid = published(base, "alpha", "launch", ["r1"])
    assert run(base, str(pid)).exit_code == 0
    again = run(base, str(pid))
    assert again.exit_code == 2 and "is retracted, not published" in again.output


def test_connector_without_delete_says_so(tmp_path: Path, fake: FakePlatform) -> None:
    write_project(tmp_path, "[]", accounts=("alpha",), connector="fake")
    pid = published(tmp_path, "alpha", "launch", ["r1"])
    result = run(tmp_path, str(pid))
    assert result.exit_code == 1
    assert "fake cannot delete posts; remove it by hand at https://fake.example/r1" in result.output
    assert status_of(tmp_path, pid)[0] == "published"


HOST = "https://social.example"


@responses.activate
def test_mastodon_thread_is_deleted_with_delete_requests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MASTODON_TOKEN", "secret-token")
    (tmp_path / "schedule.yaml").write_text(
        "timezone: UTC\n"
        "accounts:\n"
        "  club:\n"
        "    connector: mastodon\n"
        f"    instance: {HOST}\n"
        "    access_token: ${MASTODON_TOKEN}\n"
        "content: []\nposts: []\n",
        encoding="utf-8",
    )
    pid = published(tmp_path, "club", "launch", ["111", "112"])
    responses.add(
        responses.DELETE,
        f"{HOST}/api/v1/statuses/112",
        status=404,
        json={"error": "Record not found"},
    )
    responses.add(responses.DELETE, f"{HOST}/api/v1/statuses/111", status=200, json={"id": "111"})
    result = run(tmp_path, str(pid))
    assert result.exit_code == 0, result.output
    assert [c.request.url.rsplit("/", 1)[1] for c in responses.calls] == ["112", "111"]
    assert all(c.request.headers["Authorization"] == "Bearer secret-token" for c in responses.calls)
    assert status_of(tmp_path, pid)[0] == "retracted"


def comment_under(base: Path, entry: str, ids: list[str] | None, n: int = 0) -> int:
    """The first comment of ``entry``'s post ``n`` (as :func:`published` writes it): sent as
    ``ids``, or still planned when ``ids`` is None."""
    store = Store(f"sqlite:///{base}/x.db")
    try:
        occurrence = f"2026-03-01T12:{n:02d}"
        row = PlannedRow(
            f"comment:{entry}", occurrence, "alpha", "more", T0, T0 + timedelta(days=1)
        )
        store.add_planned([row], T0)
        comment = store.find(f"comment:{entry}", occurrence, "alpha")
        assert comment is not None and comment.id is not None
        if ids is not None:
            store.resolve(comment.id, T0, Sent(ids[0], f"https://fake.example/{ids[0]}", T0))
        return comment.id
    finally:
        store.close()


def test_a_sent_first_comment_is_deleted_before_its_post(base: Path, fake: FakePlatform) -> None:
    pid = published(base, "alpha", "launch", ["p1"])
    cid = comment_under(base, "launch", ["c1"])
    result = run(base, str(pid), "--json")
    assert result.exit_code == 0, result.output
    assert fake.delete_calls == ["c1", "p1"]
    (shown,) = json.loads(result.output)["publications"]
    assert shown["comment"]["id"] == cid and shown["comment"]["status"] == "retracted"
    assert status_of(base, cid)[0] == "retracted" and status_of(base, pid)[0] == "retracted"


def test_a_first_comment_not_sent_yet_is_cancelled(base: Path, fake: FakePlatform) -> None:
    pid = published(base, "alpha", "launch", ["p1"])
    cid = comment_under(base, "launch", None)
    result = run(base, str(pid))
    assert result.exit_code == 0, result.output
    assert "first comment" in result.output and fake.delete_calls == ["p1"]
    status, _, error = status_of(base, cid)
    assert status == "cancelled" and error == "its post was retracted"


def test_a_comment_that_stays_keeps_its_post(base: Path, fake: FakePlatform) -> None:
    pid = published(base, "alpha", "launch", ["p1"])
    cid = comment_under(base, "launch", ["c1"])
    fake.delete_errors["c1"] = Transient("HTTP 503", platform="fake-delete", status=503)
    result = run(base, str(pid), "--json")
    assert result.exit_code == 1
    (shown,) = json.loads(result.output)["publications"]
    assert shown["error"].startswith("first comment: (c1) not deleted")
    assert fake.delete_calls == ["c1"]  # the post is not deleted from under its comment
    assert status_of(base, pid)[0] == "published" and status_of(base, cid)[0] == "published"
    assert run(base, str(pid)).exit_code == 0  # again: the comment goes, then the post
    assert fake.delete_calls == ["c1", "c1", "p1"]
    assert status_of(base, cid)[0] == "retracted" and status_of(base, pid)[0] == "retracted"


def test_dry_run_names_the_first_comment_and_deletes_nothing(
    base: Path, fake: FakePlatform
) -> None:
    pid = published(base, "alpha", "launch", ["p1"])
    comment_under(base, "launch", ["c1"])
    result = run(base, str(pid), "--dry-run", "--json")
    (shown,) = json.loads(result.output)["publications"]
    assert shown["comment"]["status"] == "would be retracted" and shown["comment"]["parts"] == [
        "c1"
    ]
    assert fake.delete_calls == []
