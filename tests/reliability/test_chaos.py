"""Chaos: a real ``crosspost daemon`` process, SIGKILLed at random, must post each post once.

200 publications (50 ``at:`` entries x 4 Mastodon accounts on one mock, each
with its own token) fall due within a few seconds. The daemon subprocess is
killed with SIGKILL at seeded random moments and restarted, five times, then
``crosspost daemon --once`` runs until nothing is left to do. The mock's record
is then compared with the database and with ``crosspost status --json``.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from crosspost.cli import cli
from crosspost.publishing.outcome import idempotency_key
from crosspost.store import Publication, Store
from tests.mockplatform import MockMastodon
from tests.reliability.helpers import (
    at,
    key_counts,
    mastodon_account,
    post_counts,
    real_now,
    status_by_id,
    write_project,
)

REPO = Path(__file__).resolve().parents[2]
ACCOUNTS = 4
ENTRIES = 50
KILLS = 5
SEED = 20260305
#: The whole test must stay well under a minute.
BUDGET = 50.0


def _daemon(
    schedule: Path, database: str, env: dict[str, str], *args: str, log: Path
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "crosspost",
        "-s",
        str(schedule),
        "--database",
        database,
        "daemon",
        *args,
    ]
    with log.open("ab") as sink:
        return subprocess.Popen(command, cwd=REPO, env=env, stdout=sink, stderr=subprocess.STDOUT)


def _wait_for_rows(database: str, started: float) -> None:
    """Until the first daemon has written the plan down, so that killing it means something.

    Read with plain sqlite3: opening a Store would migrate, racing the daemon's own migration.
    """
    path = database.removeprefix("sqlite:///")
    while not _planned_rows(path):
        assert time.monotonic() - started < BUDGET, "the daemon never wrote its plan"
        time.sleep(0.1)


def _planned_rows(path: str) -> int:
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)) as connection:
            return int(connection.execute("SELECT count(*) FROM publication").fetchone()[0])
    except sqlite3.Error:  # not created or not migrated yet
        return 0


def _settled(store: Store) -> bool:
    """Every publication is written down and none is left to send.

    A daemon killed before its first sync leaves no rows at all (under load the import
    alone can take seconds): that is not settled, the finisher still has work.
    """
    counts = store.counts()
    written = sum(counts.values()) == ENTRIES * ACCOUNTS
    return written and not counts.get("publishing") and not counts.get("planned")


@dataclass
class Chaos:
    """What a chaos run left behind."""

    schedule: Path
    database: str
    mock: MockMastodon
    rows: list[Publication]


@pytest.fixture(scope="module")
def chaos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chaos]:
    """Run the daemon through five SIGKILLs and a final ``--once``; once per module."""
    tmp_path = tmp_path_factory.mktemp("chaos")
    with MockMastodon(tokens=tuple(f"tok-{n}" for n in range(ACCOUNTS)), seed=SEED) as mock:
        yield _run(tmp_path, mock)


def _run(tmp_path: Path, mock: MockMastodon) -> Chaos:
    started = time.monotonic()
    rng = random.Random(SEED)
    t0 = real_now()
    names = [f"m{n}" for n in range(ACCOUNTS)]
    accounts = "".join(mastodon_account(name, mock.url, f"TOK_{n}") for n, name in enumerate(names))
    posts = "".join(
        f"- id: post{n:03d}\n  content: c\n  to: [{', '.join(names)}]\n"
        f"  at: {at(t0 + timedelta(seconds=3 + n * 6 / ENTRIES))}\n"
        for n in range(ENTRIES)
    )
    schedule = write_project(tmp_path, accounts, posts)
    database = f"sqlite:///{tmp_path}/x.db"
    env = {
        **os.environ,
        **{f"TOK_{n}": f"tok-{n}" for n in range(ACCOUNTS)},
        "PYTHONPATH": str(REPO),
    }
    log = tmp_path / "daemon.log"

    for kill in range(KILLS):
        process = _daemon(schedule, database, env, "--tick", "1s", "--lease", "3s", log=log)
        if kill == 0:  # on a loaded machine start-up alone can outlast the random delay
            _wait_for_rows(database, started)
        time.sleep(rng.uniform(1.0, 3.0))
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=10) == -signal.SIGKILL

    store = Store(database)
    try:
        while not _settled(store):
            assert time.monotonic() - started < BUDGET, (store.counts(), log.read_text())
            finisher = _daemon(schedule, database, env, "--once", "--lease", "3s", log=log)
            finisher.wait(timeout=30)
            if not _settled(store):
                time.sleep(1.0)  # a lease left by a killed process runs out
        rows = store.publications()
    finally:
        store.close()

    return Chaos(schedule, database, mock, rows)


def test_sigkilled_daemon_posts_every_post_exactly_once(chaos: Chaos) -> None:
    rows, mock = chaos.rows, chaos.mock
    # every occurrence x account has exactly one row, and it ended in a final state
    assert len(rows) == ENTRIES * ACCOUNTS
    assert {r.status for r in rows} <= {"published", "unknown"}
    stored = status_by_id(mock)
    keys = key_counts(mock)
    # the mock never stored one publication twice
    assert max(keys.values()) == 1
    for row in rows:
        key = idempotency_key(row.entry, row.occurrence, row.account)
        if row.status == "published":
            assert keys[key] == 1, row
            assert row.remote_id in stored and stored[row.remote_id]["url"] == row.url
            assert stored[row.remote_id]["idempotency_key"] == key
        else:
            assert keys[key] <= 1, row
    # a key POSTed again must not have made a second status
    for key, count in post_counts(mock).items():
        if count > 1:
            assert keys[key] == 1  # repeated, but the mock still holds one status
    # nothing was stored that the database does not know about, except in-doubt rows
    known = {r.remote_id for r in rows if r.remote_id}
    in_doubt = {
        idempotency_key(r.entry, r.occurrence, r.account) for r in rows if r.status == "unknown"
    }
    for status in stored.values():
        assert status["id"] in known or status["idempotency_key"] in in_doubt, status
    published = sum(r.status == "published" for r in rows)

    result = CliRunner().invoke(
        cli, ["-s", str(chaos.schedule), "--database", chaos.database, "status", "--json"]
    )
    assert result.exit_code == (1 if published < len(rows) else 0), result.output
    report = json.loads(result.stdout)["publications"]
    assert len(report) == len(rows)
    for entry in report:
        if entry["status"] == "published":
            assert stored[entry["remote_id"]]["url"] == entry["url"]


def test_sigkilled_daemon_leaves_no_never_sent_row_unknown(chaos: Chaos) -> None:
    posted = set(post_counts(chaos.mock))
    never_sent = [
        r
        for r in chaos.rows
        if r.status == "unknown" and idempotency_key(r.entry, r.occurrence, r.account) not in posted
    ]
    assert never_sent == [], f"{len(never_sent)} of {len(chaos.rows)} rows"
