"""Telegram's update reader and the store: what it reads is kept there, whoever writes meanwhile.

The publisher and the collector threads of a daemon share one connector: the
publisher records a post (remote id, album ids in ``extra``) and may rotate a token
in the state file while the collector reads updates and stores what they hold.
Each test below lets the two really run in two threads, at the moment that used
to lose a write, for one piece of what the state file held before.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import responses
from click.testing import CliRunner
from responses import matchers
from sqlmodel import Session, select

from connectors.base import FileState, MediaItem, Published, RenderedPost, Transient
from connectors.records import RecordBatch, Written
from connectors.telegram import TelegramConnector
from crosspost.cli import cli
from crosspost.store import PlannedRow, Sent, Store
from crosspost.store.connector_records import StoreRecords
from crosspost.store.models import Interaction, Publication
from tests.connectors.test_telegram import API, CHANNEL, GROUP, KEY, TOKEN, make, tg, wide_query
from tests.test_connector_records import run_in_threads

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
CHANNEL_CHAT = {"id": -1001234567890, "title": "Crosspost News", "username": "crosspostnews"}
GROUP_CHAT = {"id": -1009876543210, "title": "Crosspost News Chat", "username": "crosspostchat"}
ALICE = {"id": 111111111, "is_bot": False, "first_name": "Alice", "username": "alice_k"}
WAIT = 20  # seconds a thread waits for the other at most (never reached when all is well)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def photos(tmp_path: Path) -> tuple[MediaItem, ...]:
    cat, dog = tmp_path / "cat.jpg", tmp_path / "dog.png"
    cat.write_bytes(b"\xff\xd8\xff\xe0 cat")
    dog.write_bytes(b"\x89PNG dog")
    return MediaItem(cat, mime_type="image/jpeg"), MediaItem(dog, mime_type="image/png")


class Daemon:
    """One connector over a real store and state file, as the daemon's two threads share it."""

    def __init__(self, store: Store, tmp_path: Path) -> None:
        self.store = store
        self.state = FileState(tmp_path / "state" / "news.json")
        self.records = StoreRecords(store, "news", "telegram")
        self.connector = connect(self.records, self.state)

    def publish(self, post: RenderedPost, occurrence: str = "1") -> tuple[int, Published]:
        """What the publisher does: claim, publish, record the result with its ``extra``."""
        row = PlannedRow("launch", occurrence, "news", "hello", T0, T0 + timedelta(hours=1))
        publication = self.store.add_oneoff(row, now=T0)
        assert publication is not None and publication.id is not None
        self.store.claim(publication.id, "publisher", timedelta(minutes=5), T0)
        published = self.connector.publish(post, KEY)
        sent = Sent(
            published.remote_id,
            published.url,
            published.published_at,
            published.thread_ids,
            dict(published.extra),
        )
        assert self.store.finish(publication.id, "publisher", T0, sent)
        return publication.id, published

    def extra(self, publication_id: int) -> Any:
        with Session(self.store.engine) as session:
            row = session.get(Publication, publication_id)
            assert row is not None
            return row.extra

    def interactions(self) -> dict[str, int | None]:
        with Session(self.store.engine) as session:
            rows = session.exec(select(Interaction)).all()
        return {row.remote_id: row.publication_id for row in rows}


def connect(records: StoreRecords, state: FileState | None = None) -> TelegramConnector:
    connector = make(state)
    connector.use_records(records)  # what the core does once it has a store
    return connector


def page(*updates: dict[str, Any]) -> dict[str, Any]:
    return {"ok": True, "result": list(updates)}


def auto_forward(update_id: int, group_message: int, post: int) -> dict[str, Any]:
    """Our channel post ``post`` arriving in the discussion group as ``group_message``."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": group_message,
            "sender_chat": {**CHANNEL_CHAT, "type": "channel"},
            "chat": {**GROUP_CHAT, "type": "supergroup"},
            "date": 1795690805,
            "forward_origin": {
                "type": "channel",
                "chat": {**CHANNEL_CHAT, "type": "channel"},
                "message_id": post,
                "date": 1795690800,
            },
            "is_automatic_forward": True,
            "text": "Hello",
        },
    }


def answer(update_id: int, message_id: int, thread: int) -> dict[str, Any]:
    """Alice answering a comment in the thread of the group message ``thread``."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "message_thread_id": thread,
            "from": ALICE,
            "chat": {**GROUP_CHAT, "type": "supergroup"},
            "date": 1795691000,
            "reply_to_message": {
                "message_id": thread + 1,
                "from": {"id": 222222222, "is_bot": False, "first_name": "Bob"},
                "chat": {**GROUP_CHAT, "type": "supergroup"},
                "date": 1795690900,
                "text": "First!",
            },
            "text": "Agreed",
        },
    }


def reactions(update_id: int, post: int, count: int, date: int) -> dict[str, Any]:
    counted = [{"type": {"type": "emoji", "emoji": "👍"}, "total_count": count}]
    return {
        "update_id": update_id,
        "message_reaction_count": {
            "chat": {**CHANNEL_CHAT, "type": "channel"},
            "message_id": post,
            "date": date,
            "reactions": counted,
        },
    }


def while_reading(
    rsps: responses.RequestsMock, body: dict[str, Any], publisher: Callable[[], object]
) -> list[Any]:
    """Answer the next ``getUpdates`` only once ``publisher`` ran to its end in its own thread.

    The collector thread is then between sending its read and storing the answer:
    the moment at which the state file used to be saved over the publisher's write.
    """
    done = threading.Event()
    results: list[Any] = []

    def publish() -> None:
        try:
            results.append(publisher())
        finally:
            done.set()

    def answer_when_published(_request: Any) -> tuple[int, dict[str, str], str]:
        threading.Thread(target=publish, name="publisher").start()
        assert done.wait(WAIT), "the publisher thread did not finish"
        return 200, {}, json.dumps(body)

    rsps.add_callback(responses.GET, f"{API}/getUpdates", callback=answer_when_published)
    return results


# --------------------------------------------------------------------------- the offset


def test_the_offset_moves_while_the_publisher_rotates_a_token(
    each_store: Store, tmp_path: Path, rsps: responses.RequestsMock
) -> None:
    daemon = Daemon(each_store, tmp_path)
    daemon.state.update(lambda saved: saved.update(session="old"))
    rsps.post(f"{API}/sendMessage", json=tg("send_message"))

    def publisher() -> None:
        daemon.publish(RenderedPost(parts=("Hello",)))
        daemon.state.update(lambda saved: saved.update(session="rotated"))

    while_reading(rsps, tg("get_updates"), publisher)
    collector = threading.Thread(target=daemon.connector.fetch_metrics, args=([f"{CHANNEL}:42"],))
    collector.start()
    collector.join(WAIT)
    assert daemon.records.cursor("updates") == "512000103"
    assert daemon.state.load() == {"session": "rotated"}  # tokens only, the newest one


# --------------------------------------------------------------------------- member messages


def test_comments_are_stored_while_their_post_is_being_recorded(
    each_store: Store, tmp_path: Path, rsps: responses.RequestsMock
) -> None:
    daemon = Daemon(each_store, tmp_path)
    rsps.post(f"{API}/sendMessage", json=tg("send_message"))
    rsps.get(f"{API}/getMe", json=tg("get_me"))
    sent = while_reading(
        rsps, tg("get_updates_inbox"), lambda: daemon.publish(RenderedPost(("Hi",)))
    )
    pages = []
    run_in_threads([lambda: pages.append(daemon.connector.fetch_inbox(None))])
    ((pid, _published),) = sent
    assert daemon.interactions() == {f"{GROUP}:311": pid, f"{GROUP}:312": pid, f"{GROUP}:315": None}
    assert [i.remote_id for i in pages[0].items] == [f"{GROUP}:{n}" for n in (311, 312, 315)]
    assert daemon.records.take_new_interactions() == 3  # what the collector reports
    assert daemon.state.load() == {}  # no queue in the state file


# --------------------------------------------------------------------------- album ids


def test_album_ids_and_the_albums_thread_both_stay_with_the_publication(
    each_store: Store, tmp_path: Path, rsps: responses.RequestsMock, photos: tuple[MediaItem, ...]
) -> None:
    """The test that found the race: the album was lost when the collector saved its state."""
    daemon = Daemon(each_store, tmp_path)
    rsps.post(f"{API}/sendMediaGroup", json=tg("send_media_group"))
    post = RenderedPost(parts=("Two photos",), media=photos)
    sent = while_reading(rsps, page(auto_forward(700, 320, 45)), lambda: daemon.publish(post))
    run_in_threads([lambda: daemon.connector.fetch_metrics([f"{CHANNEL}:45"])])
    ((pid, published),) = sent
    extra = daemon.extra(pid)
    assert extra["album"] == [45, 46]
    assert extra["discussion"] == {f"{GROUP}:320": f"{CHANNEL}:45"}
    rsps.post(
        f"{API}/deleteMessages",
        json=tg("delete_message"),
        match=[matchers.json_params_matcher({"chat_id": -1001234567890, "message_ids": [45, 46]})],
    )
    daemon.connector.delete(published.remote_id, extra)  # as `crosspost retract` does


# --------------------------------------------------------------------------- the thread map


def test_a_thread_seen_before_its_post_is_recorded_reaches_the_store_later(
    each_store: Store, tmp_path: Path, rsps: responses.RequestsMock
) -> None:
    daemon = Daemon(each_store, tmp_path)
    rsps.post(f"{API}/sendMessage", json=tg("send_message"))
    rsps.get(f"{API}/getMe", json=tg("get_me"))
    recorded: list[int] = []
    read_once = threading.Event()
    write = daemon.records.write

    def noting_write(batch: RecordBatch) -> Written:
        written = write(batch)
        if batch.extra:  # the page with the automatic forward is stored
            read_once.set()
        return written

    daemon.records.write = noting_write  # type: ignore[method-assign]

    def publisher() -> None:  # records the post only after the reader stored its page
        assert read_once.wait(WAIT)
        recorded.append(daemon.publish(RenderedPost(("Hello",)))[0])

    rsps.get(f"{API}/getUpdates", json=page(auto_forward(700, 310, 42)), match=wide_query(0))
    rsps.get(f"{API}/getUpdates", json=tg("get_updates_empty"), match=wide_query(701))
    run_in_threads([lambda: daemon.connector.fetch_inbox(None), publisher])
    assert daemon.extra(recorded[0]) == {"chat_id": -1001234567890, "message_id": 42}
    daemon.connector.fetch_inbox(None)  # the next read stores the thread it kept meanwhile
    assert daemon.extra(recorded[0])["discussion"] == {f"{GROUP}:310": f"{CHANNEL}:42"}
    # After a restart the thread map comes from the each_store: an answer in it is a comment.
    rsps.get(f"{API}/getUpdates", json=page(answer(701, 330, 310)), match=wide_query(701))
    later = connect(StoreRecords(each_store, "news", "telegram")).fetch_inbox(None)
    assert [(i.remote_id, i.kind, i.in_reply_to) for i in later.items] == [
        (f"{GROUP}:330", "comment", f"{CHANNEL}:42")
    ]
    assert daemon.interactions() == {f"{GROUP}:330": recorded[0]}


# --------------------------------------------------------------------------- reaction counts


def test_reaction_counts_are_kept_while_the_publisher_publishes(
    each_store: Store, tmp_path: Path, rsps: responses.RequestsMock
) -> None:
    daemon = Daemon(each_store, tmp_path)
    rsps.post(f"{API}/sendMessage", json=tg("send_message"))
    newer = page(reactions(800, 42, 9, 1795690950), reactions(801, 44, 2, 1795690960))
    while_reading(rsps, newer, lambda: daemon.publish(RenderedPost(("Hello",))))
    run_in_threads([lambda: daemon.connector.fetch_metrics([f"{CHANNEL}:42"])])
    # A second reader (``crosspost collect`` next to the daemon) stores an older count.
    other = StoreRecords(each_store, "news", "telegram")
    rsps.get(f"{API}/getUpdates", json=page(reactions(802, 42, 4, 1795690900)))
    got = connect(other).fetch_metrics([f"{CHANNEL}:42", f"{CHANNEL}:44", f"{CHANNEL}:50"])
    assert {rid: m.likes for rid, m in got.items()} == {f"{CHANNEL}:42": 9, f"{CHANNEL}:44": 2}
    assert daemon.state.load() == {}


# --------------------------------------------------------------------------- an old state file

OLD_STATE = {
    "session": "tok",
    "update_offset": 512000104,
    "inbox_on": True,
    "inbox_seq": 2,
    "inbox_queue": [
        {
            "seq": 2,
            "item": {
                "remote_id": f"{GROUP}:311",
                "kind": "comment",
                "author": "@alice_k",
                "author_id": "111111111",
                "text": "Congrats on the launch!",
                "url": "https://t.me/crosspostchat/311",
                "created_at": "2026-11-26T09:55:00+00:00",
                "in_reply_to": f"{CHANNEL}:42",
                "raw": {"chat_id": -1009876543210, "message_id": 311, "message_thread_id": 310},
            },
        },
        {"seq": 3, "item": {"remote_id": "broken"}},
    ],
    "reactions": {f"{CHANNEL}:42": {"total": 7, "by_type": {"👍": 7}, "date": 1795690800}},
    "threads": {f"{GROUP}:310": f"{CHANNEL}:42"},
    "linked_groups": [-1009876543210],
    "albums": {f"{CHANNEL}:45": [45, 46]},
}


def test_an_old_state_file_moves_into_the_store_once(
    each_store: Store, tmp_path: Path, rsps: responses.RequestsMock
) -> None:
    daemon = Daemon(each_store, tmp_path)
    daemon.state.save(OLD_STATE)
    rsps.post(f"{API}/sendMessage", json=tg("send_message"))
    post_pid, _ = daemon.publish(RenderedPost(("Hello",)), "1")
    album_pid = publish_album_without_extra(daemon)
    rsps.get(f"{API}/getUpdates", json=tg("get_updates_empty"), match=wide_query(512000104))
    got = daemon.connector.fetch_metrics([f"{CHANNEL}:42"])
    assert got[f"{CHANNEL}:42"].likes == 7
    assert daemon.state.load() == {"session": "tok"}  # tokens only
    assert daemon.records.cursor("updates") == "512000104"
    assert daemon.interactions() == {f"{GROUP}:311": post_pid}
    assert daemon.extra(album_pid)["album"] == [45, 46]
    assert daemon.extra(post_pid)["discussion"] == {f"{GROUP}:310": f"{CHANNEL}:42"}
    # Once moved, never again: a second reader finds a file of tokens and the each_store as it was.
    rsps.get(f"{API}/getUpdates", json=tg("get_updates_empty"), match=wide_query(512000104))
    connect(StoreRecords(each_store, "news", "telegram"), daemon.state).fetch_metrics([])
    assert daemon.interactions() == {f"{GROUP}:311": post_pid}


def publish_album_without_extra(daemon: Daemon) -> int:
    """An album recorded by a version whose store dropped ``extra`` (its ids in the file)."""
    row = PlannedRow("launch", "album", "news", "hello", T0, T0 + timedelta(hours=1))
    publication = daemon.store.add_oneoff(row, now=T0)
    assert publication is not None and publication.id is not None
    daemon.store.claim(publication.id, "w", timedelta(minutes=5), T0)
    daemon.store.finish(publication.id, "w", T0, Sent(f"{CHANNEL}:45", None, T0))
    return publication.id


def test_an_old_offset_never_moves_the_stored_one_back(
    each_store: Store, tmp_path: Path, rsps: responses.RequestsMock
) -> None:
    """A crash after the each_store took the old file and before the file was rewritten."""
    daemon = Daemon(each_store, tmp_path)
    daemon.state.save({"update_offset": 100})
    rsps.get(f"{API}/getUpdates", json=tg("get_updates"), match=updates_from(100))
    daemon.connector.fetch_metrics([])
    daemon.state.save({"update_offset": 100})  # as if the rewrite never happened
    rsps.get(f"{API}/getUpdates", json=tg("get_updates_empty"), match=updates_from(512000103))
    connect(StoreRecords(each_store, "news", "telegram"), daemon.state).fetch_metrics([])
    assert daemon.records.cursor("updates") == "512000103"
    assert daemon.state.load() == {}


def updates_from(offset: int) -> list[Any]:
    return [matchers.query_param_matcher({"offset": str(offset)}, strict_match=False)]


def test_the_file_rewrite_keeps_a_token_rotated_meanwhile(
    each_store: Store, tmp_path: Path, rsps: responses.RequestsMock
) -> None:
    daemon = Daemon(each_store, tmp_path)
    daemon.state.save({"session": "old", "update_offset": 100})
    write = daemon.records.write

    def rotating_write(batch: RecordBatch) -> Written:
        written = write(batch)  # the each_store has the old file; the publisher rotates now
        run_in_threads([lambda: daemon.state.update(lambda s: s.update(session="rotated"))])
        return written

    daemon.records.write = rotating_write  # type: ignore[method-assign]
    rsps.get(f"{API}/getUpdates", json=tg("get_updates_empty"), match=updates_from(100))
    daemon.connector.fetch_metrics([])
    assert daemon.state.load() == {"session": "rotated"}


def test_without_a_store_the_old_file_is_left_alone(
    tmp_path: Path, rsps: responses.RequestsMock
) -> None:
    """A connector the core built without a store (``check``, ``retract``) moves nothing."""
    state = FileState(tmp_path / "news.json")
    state.save(OLD_STATE)
    rsps.get(f"{API}/getUpdates", json=tg("get_updates_empty"), match=updates_from(0))
    assert make(state).fetch_metrics([]) == {}
    assert state.load() == OLD_STATE


# --------------------------------------------------------------------------- the token in logs


def test_a_urllib3_retry_of_a_bot_api_url_logs_no_token(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real retry by urllib3 against a closed port on 127.0.0.1: its lines name the URL."""
    from urllib3.util.retry import Retry

    monkeypatch.setattr(Retry, "get_backoff_time", lambda self: 0)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends: connections are refused
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")
    connector = make(api_url=f"http://127.0.0.1:{port}")
    with pytest.raises(Transient) as caught:
        connector.fetch_metrics([f"{CHANNEL}:42"])
    retries = [
        r for r in caplog.records if r.name.startswith("urllib3") and "Retry" in r.getMessage()
    ]
    assert any(r.levelno == logging.WARNING for r in retries)  # "Retrying (...) after ..."
    assert any("/bot***/getUpdates" in r.getMessage() for r in retries)
    shown = caplog.text + str(caught.value)
    assert TOKEN not in shown and TOKEN.split(":")[1] not in shown


# --------------------------------------------------------------------------- one bot, two accounts


def test_check_warns_when_two_accounts_share_one_bot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("OTHER_BOT_TOKEN", "987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw")
    lines = ["timezone: UTC", "accounts:"]
    for name, token, chat in (
        ("news", "TELEGRAM_BOT_TOKEN", "@crosspostnews"),
        ("chat", "OTHER_BOT_TOKEN", "@crosspostchat"),
        ("events", "TELEGRAM_BOT_TOKEN", "@crosspostevents"),
    ):
        lines += [f"  {name}:", "    connector: telegram", f"    bot_token: ${{{token}}}"]
        lines.append(f'    chat_id: "{chat}"')
    lines += ["content:", "  - id: hello", "    title: Hello", "    body: Hello.", "posts: []"]
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text("\n".join(lines) + "\n", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(cli, ["-s", str(schedule), "check"])
    assert result.exit_code == 0, result.output
    warning = (
        ":11:3: accounts.events: shares the getUpdates offset of Telegram bot 123456789 "
        "with account news"
    )
    assert warning in result.output and "warning: " in result.output
    assert "accounts.chat" not in result.output
    assert TOKEN.split(":")[1] not in result.output
    data = json.loads(runner.invoke(cli, ["-s", str(schedule), "check", "--json"]).output)
    assert [(w["line"], w["message"].split(":")[0]) for w in data["warnings"]] == [
        (11, "accounts.events")
    ]
