"""A large project that lives on is frozen after its load, and the daemon walks it once later.

On their way to the oldest generation, the millions of objects a large load makes would be
walked by a young, a middle and a full collection. Frozen (``gc.freeze``) they are not;
the daemon puts them back and collects once (``collect_frozen``) when no account is
publishing, so the collection never holds back the first posts, and whatever a load left
in cycles is freed then.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crosspost.loading import project as project_module
from crosspost.loading.project import collect_frozen, load_project, no_cycle_collection
from crosspost.publishing.daemon import Daemon
from crosspost.publishing.dispatch import AccountDispatcher
from crosspost.store import Store
from tests.fakes import FakeClock, FakePlatform, edit, settled_reload, write_project

T0 = datetime(2026, 3, 1, 12, 0, 10, tzinfo=UTC)
POSTS = '- id: daily\n  content: hello\n  to: [alpha]\n  cron: "0 9 * * *"\n'


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.fixture
def any_load_is_large(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(project_module, "FREEZE_AFTER", 0)


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def test_a_large_block_is_frozen_and_its_cycles_freed_by_collect_frozen(
    any_load_is_large: None,
) -> None:
    with no_cycle_collection(freeze_many=True):
        cycle = weakref.ref(_Node())
    assert gc.get_freeze_count() > 0 and gc.isenabled()
    gc.collect()
    assert cycle() is not None  # frozen: not even a full collection looks at it
    collect_frozen()
    assert gc.get_freeze_count() == 0
    assert cycle() is None


def test_a_block_that_made_few_objects_is_not_frozen() -> None:
    with no_cycle_collection(freeze_many=True):
        [object() for _ in range(100)]
    assert gc.get_freeze_count() == 0


def test_only_a_kept_project_is_frozen(
    tmp_path: Path, platform: FakePlatform, any_load_is_large: None
) -> None:
    path = write_project(tmp_path, POSTS)
    load_project(path)
    assert gc.get_freeze_count() == 0
    load_project(path, keep=True)
    assert gc.get_freeze_count() > 0


def test_the_daemon_collects_a_frozen_load_when_no_account_is_publishing(
    tmp_path: Path, store: Store, platform: FakePlatform, any_load_is_large: None
) -> None:
    daemon = Daemon(write_project(tmp_path, POSTS), store, clock=FakeClock(T0))
    assert gc.get_freeze_count() > 0  # its own load
    daemon.tick()
    assert gc.get_freeze_count() == 0


def test_while_accounts_publish_the_collection_waits_at_most_a_tick(
    tmp_path: Path,
    store: Store,
    platform: FakePlatform,
    any_load_is_large: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = FakeClock(T0)
    tick = timedelta(seconds=5)
    daemon = Daemon(write_project(tmp_path, POSTS), store, clock=clock, tick=tick)
    monkeypatch.setattr(AccountDispatcher, "busy", property(lambda _self: {"alpha"}))
    daemon.round()
    assert gc.get_freeze_count() > 0  # the first posts go out first
    clock.advance(tick - timedelta(seconds=1))
    daemon.round()
    assert gc.get_freeze_count() > 0
    clock.advance(timedelta(seconds=1))
    daemon.round()
    assert gc.get_freeze_count() == 0


def test_a_reload_freezes_the_new_project_and_the_next_round_collects(
    tmp_path: Path, store: Store, platform: FakePlatform, any_load_is_large: None
) -> None:

    clock = FakeClock(T0)
    path = write_project(tmp_path, POSTS)
    daemon = Daemon(path, store, clock=clock)
    daemon.tick()
    edit(path, path.read_text(encoding="utf-8").replace("0 9 * * *", "0 10 * * *"))
    assert settled_reload(daemon, clock)
    assert gc.get_freeze_count() > 0
    daemon.tick()
    assert gc.get_freeze_count() == 0
