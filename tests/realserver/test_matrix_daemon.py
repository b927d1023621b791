"""A ``crosspost daemon`` SIGKILLed while Synapse holds its message: still one event per post.

A small proxy stands between the daemon and Synapse. It passes everything on, but
holds back Synapse's answer to the first message sent: the event exists, the
daemon has not heard of it. The daemon is killed right then, the proxy lets go,
and ``crosspost daemon --once`` runs until nothing is left to do. The room must
then hold each publication exactly once, under the remote id the store recorded.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from crosspost.store import Store
from tests.realserver.conftest import free_ports
from tests.realserver.synapse import MatrixUser, Synapse
from tests.reliability.helpers import at, real_now, write_project

pytestmark = pytest.mark.realserver

REPO = Path(__file__).resolve().parents[2]
POSTS = 3
#: The whole test must stay well under a minute once Synapse is up.
BUDGET = 90.0
_HOP = {"connection", "transfer-encoding", "content-length", "keep-alive", "host"}


class HoldingProxy(ThreadingHTTPServer):
    """Forwards to ``upstream``; holds back the answer to the first message sent."""

    daemon_threads = True

    def __init__(self, port: int, upstream: str) -> None:
        super().__init__(("127.0.0.1", port), _Forward)
        self.upstream = upstream
        self.holding = True
        self.reached = threading.Event()
        self.release = threading.Event()
        self.held: list[str] = []


class _Forward(BaseHTTPRequestHandler):
    server: HoldingProxy

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
        answer = requests.request(
            self.command, self.server.upstream + self.path, headers=headers, data=body, timeout=30
        )
        if self.command == "PUT" and "/send/" in self.path and self.server.holding:
            self.server.holding = False
            self.server.held.append(answer.json()["event_id"])
            self.server.reached.set()
            self.server.release.wait(60)
            self.close_connection = True
            return  # the answer is never given
        self.send_response(answer.status_code)
        for key, value in answer.headers.items():
            if key.lower() not in _HOP:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    do_GET = do_PUT = do_POST = _forward


@pytest.fixture
def proxy(synapse: Synapse) -> Iterator[HoldingProxy]:
    (port,) = free_ports(1)
    server = HoldingProxy(port, synapse.base)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()


def _daemon(
    schedule: Path, database: str, env: dict[str, str], *args: str
) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "crosspost", "-s", str(schedule), "--database", database]
    log = (schedule.parent / "daemon.log").open("ab")
    with log:
        return subprocess.Popen(
            [*command, "daemon", *args], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
        )


def _settled(store: Store) -> bool:
    counts = store.counts()
    return (
        sum(counts.values()) == POSTS and not counts.get("publishing") and not counts.get("planned")
    )


def test_a_daemon_killed_mid_send_leaves_one_event_per_post(
    synapse: Synapse,
    proxy: HoldingProxy,
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    owner = synapse.register(f"poster{time.monotonic_ns()}")
    room = owner.create_room()
    t0 = real_now()
    account = (
        f"  town:\n    connector: matrix\n    homeserver: http://127.0.0.1:{proxy.server_port}\n"
        f"    room: '{room}'\n    user: {owner.localpart}\n    password: ${{MATRIX_PASSWORD}}\n"
    )
    posts = "".join(
        f"- id: post{n}\n  content: c\n  to: [town]\n  at: {at(t0 + timedelta(seconds=2))}\n"
        for n in range(POSTS)
    )
    schedule = write_project(tmp_path, account, posts)
    database = f"sqlite:///{tmp_path}/x.db"
    env = {**os.environ, "MATRIX_PASSWORD": owner.password, "PYTHONPATH": str(REPO)}

    first = _daemon(schedule, database, env, "--tick", "1s", "--lease", "3s")
    assert proxy.reached.wait(BUDGET), (schedule.parent / "daemon.log").read_text()
    first.send_signal(signal.SIGKILL)
    assert first.wait(timeout=10) == -signal.SIGKILL
    proxy.release.set()

    store = Store(database)
    try:
        while not _settled(store):
            assert time.monotonic() - started < BUDGET, (schedule.parent / "daemon.log").read_text()
            _daemon(schedule, database, env, "--once", "--lease", "3s").wait(timeout=60)
        rows = store.publications()
    finally:
        store.close()

    assert [row.status for row in rows] == ["published"] * POSTS
    events = _messages(owner, room)
    assert Counter(e["sender"] for e in events) == Counter({owner.user_id: POSTS})
    assert sorted(e["event_id"] for e in events) == sorted(str(row.remote_id) for row in rows)
    assert proxy.held[0] in {row.remote_id for row in rows}
    assert len({e["content"]["body"] for e in events}) == POSTS


def _messages(user: MatrixUser, room: str) -> list[dict[str, object]]:
    return user.messages(room)
