"""Connector records in the store: one transaction per batch, nothing lost between two writers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from connectors.base import InboxItem, Metrics
from connectors.records import (
    CursorMove,
    CursorMoved,
    ExtraEntry,
    MemoryRecords,
    Observed,
    RecordBatch,
)
from crosspost.store import PlannedRow, Sent, Store
from crosspost.store.collect_inbox import inbox_cursor
from crosspost.store.connector_records import StoreRecords
from crosspost.store.models import Interaction, Publication

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def published(
    store: Store,
    remote_id: str,
    account: str = "tg",
    extra: dict[str, object] | None = None,
    thread_ids: tuple[str, ...] = (),
) -> int:
    """A publication of ``account`` recorded as published, as the publisher records it."""
    row = PlannedRow("e", remote_id, account, "hello", T0, T0 + timedelta(hours=1))
    publication = store.add_oneoff(row, now=T0)
    assert publication.id is not None
    store.claim(publication.id, "w", timedelta(minutes=5), T0)
    sent = Sent(remote_id, None, T0, thread_ids=thread_ids, extra=dict(extra or {}))
    assert store.finish(publication.id, "w", T0, sent)
    return publication.id


def extra_of(store: Store, publication_id: int) -> object:
    with Session(store.engine) as session:
        row = session.get(Publication, publication_id)
        assert row is not None
        return row.extra


def item(remote_id: str, in_reply_to: str | None = None) -> InboxItem:
    return InboxItem(remote_id, "comment", "@alice", "1", "hi", None, T0, in_reply_to)


def observed(remote_id: str, likes: int, minutes: int) -> Observed:
    return Observed(remote_id, T0 + timedelta(minutes=minutes), Metrics(likes=likes, raw={"n": 1}))


def test_a_cursor_moves_only_from_the_value_read(each_store: Store) -> None:
    records = StoreRecords(each_store, "tg", "telegram")
    assert records.cursor("updates") is None
    records.write(RecordBatch(cursors=(CursorMove("updates", None, "10"),)))
    with pytest.raises(CursorMoved):
        records.write(RecordBatch(cursors=(CursorMove("updates", None, "12"),)))
    with pytest.raises(CursorMoved):
        records.write(
            RecordBatch(cursors=(CursorMove("updates", "9", "12"),), inbox=(item("g:1"),))
        )
    assert records.cursor("updates") == "10"
    with Session(each_store.engine) as session:
        assert session.exec(select(Interaction)).all() == []  # nothing of a refused batch
    records.write(RecordBatch(cursors=(CursorMove("updates", "10", "12"),)))
    assert records.cursor("updates") == "12"
    assert inbox_cursor(each_store, "tg") is None  # apart from the core's own inbox cursor
    assert StoreRecords(each_store, "other", "telegram").cursor("updates") is None


def test_member_messages_become_interactions_once_linked_to_our_post(each_store: Store) -> None:
    pid = published(each_store, "-100:42", thread_ids=("-100:42", "-100:43"))
    records = StoreRecords(each_store, "tg", "telegram")
    batch = RecordBatch(inbox=(item("g:1", "-100:42"), item("g:2", "-100:43"), item("g:3")))
    assert records.write(batch).interactions == 3
    assert records.write(batch).interactions == 0  # the same page again stores nothing
    assert records.take_new_interactions() == 3
    assert records.take_new_interactions() == 0
    with Session(each_store.engine) as session:
        rows = {
            i.remote_id: (i.platform, i.publication_id) for i in session.exec(select(Interaction))
        }
    assert rows == {"g:1": ("telegram", pid), "g:2": ("telegram", pid), "g:3": ("telegram", None)}


def test_the_newest_observation_wins_whatever_the_order(each_store: Store) -> None:
    records = StoreRecords(each_store, "tg", "telegram")
    records.write(RecordBatch(observed=(observed("-100:42", 7, 5), observed("-100:42", 3, 1))))
    records.write(RecordBatch(observed=(observed("-100:42", 2, 0), observed("-100:44", 4, 2))))
    got = records.observed(["-100:42", "-100:44", "-100:50"])
    assert {rid: m.likes for rid, m in got.items()} == {"-100:42": 7, "-100:44": 4}
    assert got["-100:42"].raw == {"n": 1}
    records.write(RecordBatch(observed=(observed("-100:42", 9, 6),)))
    assert records.observed(["-100:42"])["-100:42"].likes == 9
    assert StoreRecords(each_store, "other", "telegram").observed(["-100:42"]) == {}


def test_extra_entries_only_add_and_find_thread_parts(each_store: Store) -> None:
    single = published(each_store, "-100:42", extra={"album": [42, 43]})
    thread = published(each_store, "-100:50", thread_ids=("-100:50", "-100:51"))
    records = StoreRecords(each_store, "tg", "telegram")
    written = records.write(
        RecordBatch(
            extra=(
                ExtraEntry("-100:42", "discussion", {"g:7": "-100:42"}),
                ExtraEntry("-100:42", "album", [1]),  # never replaces what is there
                ExtraEntry("-100:51", "discussion", {"g:9": "-100:51"}),
                ExtraEntry("-100:99", "discussion", {"g:11": "-100:99"}),
            )
        )
    )
    assert written.unmatched == frozenset({"-100:99"})
    records.write(RecordBatch(extra=(ExtraEntry("-100:50", "discussion", {"g:8": "-100:50"}),)))
    assert extra_of(each_store, single) == {"album": [42, 43], "discussion": {"g:7": "-100:42"}}
    assert extra_of(each_store, thread) == {"discussion": {"g:9": "-100:51", "g:8": "-100:50"}}
    assert records.extras("discussion") == {
        "-100:42": {"g:7": "-100:42"},
        "-100:50": {"g:9": "-100:51", "g:8": "-100:50"},
    }


def test_two_writers_of_one_publication_both_keep_their_entries(each_store: Store) -> None:
    """Readers in two processes (a daemon and ``crosspost collect``) merge, never overwrite."""
    pid = published(each_store, "-100:42", extra={"album": [42, 43]})
    writers = [StoreRecords(each_store, "tg", "telegram") for _ in range(2)]
    entries = [ExtraEntry("-100:42", "discussion", {f"g:{n}": "-100:42"}) for n in range(20)]
    run_in_threads(
        [
            lambda w=w, mine=entries[i::2]: [w.write(RecordBatch(extra=(e,))) for e in mine]
            for i, w in enumerate(writers)
        ]
    )
    extra = extra_of(each_store, pid)
    assert isinstance(extra, dict) and extra["album"] == [42, 43]
    assert extra["discussion"] == {f"g:{n}": "-100:42" for n in range(20)}


def test_two_readers_moving_one_cursor_never_both_win(each_store: Store) -> None:
    writers = [StoreRecords(each_store, "tg", "telegram") for _ in range(2)]
    wins: list[int] = []
    lock = threading.Lock()

    def read(writer: StoreRecords, number: int) -> None:
        for _ in range(10):
            start = writer.cursor("updates")
            new = str(int(start or 0) + 1)
            try:
                writer.write(
                    RecordBatch(
                        cursors=(CursorMove("updates", start, new),),
                        inbox=(item(f"g:{new}"),),
                    )
                )
            except CursorMoved:
                continue
            with lock:
                wins.append(number)

    run_in_threads([lambda w=w, n=n: read(w, n) for n, w in enumerate(writers)])
    assert writers[0].cursor("updates") == str(len(wins))  # every win moved it by one
    with Session(each_store.engine) as session:
        assert len(session.exec(select(Interaction)).all()) == len(wins)


def test_memory_records_keep_the_same_rules() -> None:
    records = MemoryRecords(publications={"-100:42": {"album": [1]}}, parts={"-100:43": "-100:42"})
    written = records.write(
        RecordBatch(
            cursors=(CursorMove("updates", None, "5"),),
            inbox=(item("g:1"), item("g:1")),
            observed=(observed("-100:42", 3, 1), observed("-100:42", 1, 0)),
            extra=(
                ExtraEntry("-100:43", "discussion", {"g:2": "-100:43"}),
                ExtraEntry("-100:99", "discussion", {"g:3": "-100:99"}),
            ),
        )
    )
    assert (written.interactions, written.unmatched) == (1, frozenset({"-100:99"}))
    assert records.observed(["-100:42"])["-100:42"].likes == 3
    assert records.extras("discussion") == {"-100:42": {"g:2": "-100:43"}}
    with pytest.raises(CursorMoved):
        records.write(RecordBatch(cursors=(CursorMove("updates", "4", "6"),)))


def run_in_threads(works: list[Callable[[], object]]) -> None:
    """Run each function in its own thread, started together; re-raise the first failure."""
    errors: list[BaseException] = []
    start = threading.Barrier(len(works))

    def run(work: Callable[[], object]) -> None:
        start.wait(timeout=10)
        try:
            work()
        except BaseException as exc:  # reported to the test below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    if errors:
        raise errors[0]


def test_the_project_hands_records_to_connectors_before_and_after_a_reload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: Store
) -> None:
    from connectors.telegram import TelegramConnector
    from crosspost.loading.project import load_project

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw")
    lines = ["timezone: UTC", "accounts:"]
    for name in ("news", "chat"):
        lines += [f"  {name}:", "    connector: telegram", "    bot_token: ${TELEGRAM_BOT_TOKEN}"]
        lines.append(f'    chat_id: "@crosspost{name}"')
    lines += ["content:", "  - id: hello", "    title: Hello", "    body: Hello.", "posts: []"]
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text("\n".join(lines) + "\n", encoding="utf-8")
    project = load_project(schedule)
    before = project.connector("news")  # built before the store is there (check, render)
    assert isinstance(before, TelegramConnector) and isinstance(before.records, MemoryRecords)
    project.attach_store(store)
    assert before.records is project.records("news")
    assert isinstance(before.records, StoreRecords) and before.records.store is store
    reloaded = load_project(schedule)
    reloaded.adopt_connectors(project)  # the daemon's reload
    assert reloaded.connector("news") is before
    after = reloaded.connector("chat")
    assert isinstance(after, TelegramConnector)
    assert after.records is reloaded.records("chat")
    assert isinstance(after.records, StoreRecords) and after.records.account == "chat"


def test_the_abilities_the_core_probes_for_are_the_ones_connectors_implement() -> None:
    """``KeepsRecords`` is importable from ``connectors.records`` as the connector guide
    says; the loaders probe through ``connectors.abilities`` so ``check`` need not import
    the records' types."""
    import connectors.abilities as abilities
    import connectors.records as records

    class Keeper:
        def use_records(self, records: object) -> None: ...

    class Holder:
        def exclusive_resource(self) -> str | None:
            return "the updates of one bot"

    assert records.KeepsRecords is abilities.KeepsRecords
    assert isinstance(Keeper(), records.KeepsRecords)
    assert isinstance(Holder(), abilities.ExclusiveResource)
    assert not isinstance(Holder(), records.KeepsRecords)
