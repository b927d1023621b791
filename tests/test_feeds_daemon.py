"""The daemon and feeds, as real processes: restarts post nothing twice; a hung feed delays nothing.

``crosspost daemon --once`` and ``crosspost daemon`` run as subprocesses against
the feed server on 127.0.0.1 and publish into a folder account, so the seen set
is read back from the database by a new process each time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import Session

from crosspost.store import Store
from crosspost.store.models import FeedState
from tests.feedserver import Doc, FeedServer, Item, atom, serving

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def server() -> Iterator[FeedServer]:
    yield from serving()


def project(base: Path, server: FeedServer, posts: str = "") -> Path:
    (base / "templates").mkdir(exist_ok=True)
    (base / "templates" / "entry.j2").write_text("{{ title }}\n{{ link }}", encoding="utf-8")
    text = f"""\
        timezone: UTC
        accounts:
          archive: {{connector: folder, path: out}}
          copy: {{connector: folder, path: copy}}
        content:
          - {{id: hello, body: Hello from the schedule}}
        feeds:
          - id: news
            url: {server.url("/atom.xml")}
            to: [archive, copy]
            template: entry
            since: 2020-01-01
            every: 1m
        """
    path = base / "schedule.yaml"
    path.write_text(textwrap.dedent(text) + posts, encoding="utf-8")
    return path


def crosspost(base: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSPOST_")}
    return subprocess.run(
        [sys.executable, "-m", "crosspost", "-s", str(base / "schedule.yaml"), *args],
        cwd=REPO,
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def titles(folder: Path) -> list[str]:
    """The first line of every post written into ``folder`` (its title)."""
    found = []
    for file in folder.glob("*.md"):
        body = file.read_text(encoding="utf-8").split("---\n", 2)[-1]
        found.append(body.strip().splitlines()[0])
    return sorted(found)


def a_minute_passes(base: Path) -> None:
    """Move the last fetch back, as if the feed's ``every: 1m`` had gone by."""
    store = Store(f"sqlite:///{base}/crosspost.db")
    try:
        with Session(store.engine) as session:
            earlier = datetime.now(UTC) - timedelta(minutes=2)
            session.execute(update(FeedState).values(last_fetch_at=earlier))
            session.commit()
    finally:
        store.close()


def test_daemon_once_twice_publishes_each_entry_exactly_once(
    tmp_path: Path, server: FeedServer
) -> None:
    project(tmp_path, server)
    first = [Item("tag:a", "Alpha", "https://n.example/a"), Item("tag:b", "Beta")]
    server.docs["/atom.xml"] = Doc(atom(first), content_type="application/atom+xml", etag='"1"')
    run = crosspost(tmp_path, "daemon", "--once")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("published feed:news") == 4
    assert titles(tmp_path / "out") == titles(tmp_path / "copy") == ["Alpha", "Beta"]

    # a new process: the entries are remembered, and an edited one is not news
    edited = [Item("tag:c", "Gamma"), Item("tag:a", "Alpha (edited)"), first[1]]
    server.docs["/atom.xml"] = Doc(atom(edited), content_type="application/atom+xml", etag='"2"')
    a_minute_passes(tmp_path)
    again = crosspost(tmp_path, "daemon", "--once")
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.count("published feed:news") == 2
    assert titles(tmp_path / "out") == titles(tmp_path / "copy") == ["Alpha", "Beta", "Gamma"]

    a_minute_passes(tmp_path)
    third = crosspost(tmp_path, "daemon", "--once")
    assert third.returncode == 0 and third.stdout.strip() == "nothing is due"
    assert server.asked("/atom.xml")[-1]["if-none-match"] == '"2"'  # answered 304
    assert len(server.asked("/atom.xml")) == 3


def wait_until(condition: Callable[[], bool], bound: float = 60.0) -> bool:
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_hung_feed_never_delays_publishing(tmp_path: Path, server: FeedServer) -> None:
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=6)
    post = f"posts:\n  - {{id: now, content: hello, to: archive, at: '{soon:%Y-%m-%d %H:%M:%S}'}}\n"
    project(tmp_path, server, post)
    release = threading.Event()
    doc = Doc(
        atom([Item("tag:late", "Late news")]), content_type="application/atom+xml", hold=release
    )
    server.docs["/atom.xml"] = doc
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSPOST_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "crosspost", "-s", str(tmp_path / "schedule.yaml"), "daemon"],
        cwd=REPO,
        env={**env, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert wait_until(doc.waiting.is_set), "the daemon never asked for the feed"
        assert wait_until(lambda: titles(tmp_path / "out") == ["Hello from the schedule"])
        assert doc.waiting.is_set()  # the post went out while the feed still hung
        release.set()
        assert wait_until(lambda: "Late news" in titles(tmp_path / "out"))
        # the two accounts publish in parallel: the copy may come a moment later
        assert wait_until(lambda: titles(tmp_path / "copy") == ["Late news"])
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        release.set()
        process.kill()
        process.wait()
    assert process.returncode == 0, output
