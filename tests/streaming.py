"""What the tests of notification streams share: a stream heard on a thread of its own,
and a daemon that stores a mention as it happens."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, select

from connectors.base import InboxStream
from crosspost.store import Store
from crosspost.store.models import Interaction

#: Seconds a test waits for a stream at most (never reached when all is well).
WAIT = 8.0


def stored(store: Store) -> list[str]:
    """The remote ids of the interactions in ``store``."""
    with Session(store.engine) as session:
        return sorted(row.remote_id for row in session.exec(select(Interaction)))


def wait_until(condition: Callable[[], bool], deadline: float) -> None:
    """Poll ``condition`` until it holds or the monotonic ``deadline`` passes."""
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


@dataclass
class Heard:
    """The moments (monotonic) at which a stream gave word, and what stops it."""

    stop: threading.Event = field(default_factory=threading.Event)
    said: list[float] = field(default_factory=list)


@contextmanager
def listening(connector: InboxStream) -> Iterator[Heard]:
    """``connector``'s stream read on a thread until the block ends; the thread must end
    within 5 s of being stopped."""
    heard = Heard()

    def listen() -> None:
        for _ in connector.stream_inbox(heard.stop):
            heard.said.append(time.monotonic())

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    try:
        yield heard
    finally:
        heard.stop.set()
        thread.join(5)
        assert not thread.is_alive(), "the stream did not end when it was stopped"


def seconds_until_stored(
    folder: Path,
    store: Store,
    account: str,
    streaming: Callable[[], bool],
    mention: Callable[[], None],
) -> float:
    """Run the daemon on a schedule of the one ``account`` (its YAML mapping), send
    ``mention`` once ``streaming()`` says the stream is up, and return how many seconds
    went by until the mention was stored (the daemon stops then, or after ``WAIT``)."""
    from crosspost.publishing.daemon import Daemon

    (folder / "schedule.yaml").write_text(
        f"timezone: UTC\naccounts:\n  us: {account}\n"
        "content:\n  - {id: hello, body: Hello.}\nposts: []\n",
        encoding="utf-8",
    )
    daemon = Daemon(folder / "schedule.yaml", store, tick=timedelta(milliseconds=200))
    found: list[float] = []

    def mention_then_stop() -> None:
        deadline = time.monotonic() + WAIT
        wait_until(streaming, deadline)
        sent = time.monotonic()
        mention()
        wait_until(lambda: bool(stored(store)), deadline)
        found.append(time.monotonic() - sent)
        daemon.stop()

    helper = threading.Thread(target=mention_then_stop)
    helper.start()
    daemon.run_forever()  # the main thread: it sets signal handlers
    helper.join()
    return found[0]
