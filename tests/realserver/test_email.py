"""The e-mail connector against a real SMTP server on loopback (aiosmtpd, tests/realserver/smtp.py).

A newsletter to three recipients through ``crosspost publish``; TLS both ways;
a bounce; and a real ``crosspost daemon`` SIGKILLed in the middle of a send and
started again: every recipient gets exactly one message.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from connectors.base import AuthError, RenderedPost
from connectors.email import EmailConnector
from crosspost.cli import cli
from tests.realserver.smtp import Handler, SmtpServer, running

pytestmark = [
    pytest.mark.realserver,
    # a login over plain SMTP is what loopback relays take; aiosmtpd warns about it
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning"),
]

REPO = Path(__file__).resolve().parents[2]
PEOPLE = ("ann@example.org", "bob@example.org", "cid@example.org")
#: Bounds of the daemon test: each wait, and the whole run.
WAIT = 60.0


def write_project(base: Path, port: int, at: datetime | None = None) -> Path:
    """A project whose ``news`` account sends through the server on ``port``."""
    (base / "subscribers.csv").write_text(
        "email,name\nann@example.org,Ann\nbob@example.org,Bob\ncid@example.org,Cid\n",
        encoding="utf-8",
    )
    (base / "content").mkdir(exist_ok=True)
    (base / "content" / "open-night.md").write_text(
        "---\ntitle: Open night\n---\nCome to the **open night** on Friday: "
        "[details](https://example.org/open-night).\n",
        encoding="utf-8",
    )
    posts = "posts: []\n"
    if at is not None:
        posts = (
            "posts:\n  - id: weekly\n    content: content/open-night.md\n    to: [news]\n"
            f"    at: {at:%Y-%m-%d %H:%M:%S}\n"
        )
    schedule = textwrap.dedent(
        f"""\
        timezone: UTC
        accounts:
          news:
            connector: email
            host: 127.0.0.1
            port: {port}
            security: none
            username: news
            password: ${{SMTP_PASSWORD}}
            from_address: news@example.org
            from_name: Makerspace
            recipients: subscribers.csv
            subject: "Makerspace: {{title}}"
            unsubscribe_url: https://example.org/leave?email={{email}}
            unsubscribe_mailto: leave@example.org
            timeout: 20
        """
    )
    path = base / "schedule.yaml"
    path.write_text(schedule + posts, encoding="utf-8")
    return path


def test_a_newsletter_reaches_each_recipient_once_with_both_parts(tmp_path: Path) -> None:
    with running(Handler()) as server:
        schedule = write_project(tmp_path, server.port)
        args = ["-s", str(schedule), "--database", f"sqlite:///{tmp_path}/x.db", "publish"]
        env = {"SMTP_PASSWORD": "pw-123"}
        first = CliRunner().invoke(cli, [*args, "content/open-night.md", "--to", "news"], env=env)
        again = CliRunner().invoke(cli, [*args, "content/open-night.md", "--to", "news"], env=env)
    assert first.exit_code == 0, first.output
    assert again.exit_code == 0, again.output
    received = server.handler.received
    assert sorted(r.recipients[0] for r in received) == sorted(PEOPLE)
    assert all(len(r.recipients) == 1 and r.login == "news" for r in received)
    assert server.handler.per_recipient() == {person: 1 for person in PEOPLE}
    for item in received:
        message = item.message
        (address,) = item.recipients
        assert message["To"].addresses[0].addr_spec == address
        assert message["Subject"] == "Makerspace: Open night"
        assert message["From"] == "Makerspace <news@example.org>"
        assert message["List-Unsubscribe"] == (
            f"<https://example.org/leave?email={address}>, <mailto:leave@example.org>"
        )
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert str(message["Message-ID"]).startswith("<crosspost-")
        text, html = message.get_body(("plain",)), message.get_body(("html",))
        assert text is not None and html is not None
        assert "open night on Friday: details (https://example.org/open-night" in text.get_content()
        assert "<b>open night</b>" in html.get_content()
    assert len({str(r.message["Message-ID"]) for r in received}) == 3


@pytest.mark.parametrize("tls", ["starttls", "ssl"])
def test_tls_and_login(tmp_path: Path, tls: str) -> None:
    with running(Handler(), tls, tmp_path) as server:
        assert server.cert is not None
        settings = EmailConnector.Settings(
            host="localhost",
            port=server.port,
            security=tls,
            username="news",
            password="pw-123",
            from_address="news@example.org",
            recipients=Path("list.txt"),
            base_dir=tmp_path,
            ca_file=server.cert,
        )
        (tmp_path / "list.txt").write_text("ann@example.org\n", encoding="utf-8")
        post = RenderedPost(parts=("<p>Hi</p>",), alternative="Hi", title="Hello")
        EmailConnector("news", settings).publish(post, "crosspost-tls")
    (received,) = server.handler.received
    assert received.tls and received.login == "news"


def test_a_server_without_starttls_never_sees_the_password(tmp_path: Path) -> None:
    (tmp_path / "list.txt").write_text("ann@example.org\n", encoding="utf-8")
    with running(Handler()) as server:
        settings = EmailConnector.Settings(
            host="localhost",
            port=server.port,
            security="starttls",
            username="news",
            password="pw-123",
            from_address="news@example.org",
            recipients=Path("list.txt"),
            base_dir=tmp_path,
        )
        post = RenderedPost(parts=("<p>Hi</p>",), alternative="Hi", title="Hello")
        with pytest.raises(AuthError, match="offers no STARTTLS"):
            EmailConnector("news", settings).publish(post, "crosspost-plain")
    assert server.handler.received == []


def test_a_bounce_is_one_refused_recipient(tmp_path: Path) -> None:
    handler = Handler(refuse={"bob@example.org": "550 5.1.1 <bob@example.org>: no such user"})
    with running(handler) as server:
        schedule = write_project(tmp_path, server.port)
        args = ["-s", str(schedule), "--database", f"sqlite:///{tmp_path}/x.db"]
        result = CliRunner().invoke(
            cli,
            [*args, "publish", "content/open-night.md", "--to", "news", "--json"],
            env={"SMTP_PASSWORD": "pw-123"},
        )
    (outcome,) = json.loads(result.stdout)["publications"]
    assert outcome["status"] == "published"
    assert outcome["error"].startswith("sent to 2 of 3, 1 refused: bob@example.org (")
    assert "550 5.1.1" in outcome["error"]
    assert handler.per_recipient() == {"ann@example.org": 1, "cid@example.org": 1}


# -- a daemon killed in the middle of a newsletter ------------------------------------------


def _daemon(schedule: Path, database: str, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "crosspost", "-s", str(schedule)]
    command += ["--database", database, "daemon", "--tick", "1s", "--lease", "3s"]
    env = {**os.environ, "SMTP_PASSWORD": "pw-123", "PYTHONPATH": str(REPO)}
    with log.open("ab") as sink:
        return subprocess.Popen(command, cwd=REPO, env=env, stdout=sink, stderr=subprocess.STDOUT)


def _publication(path: Path) -> tuple[str, str | None]:
    try:
        uri = f"file:{path}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, timeout=1)) as connection:
            row = connection.execute("SELECT status, error FROM publication").fetchone()
    except sqlite3.Error:
        return "", None
    return (str(row[0]), row[1]) if row else ("", None)


def _until(condition: object, what: str, log: Path) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"{what}; daemon log:\n{log.read_text()[-3000:]}"
        time.sleep(0.1)


def _killed_mid_send(tmp_path: Path, server: SmtpServer) -> str | None:
    """Start a daemon, SIGKILL it while the server stalls, start another; the final note."""
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    schedule = write_project(tmp_path, server.port, at)
    database, log = tmp_path / "x.db", tmp_path / "daemon.log"
    first = _daemon(schedule, f"sqlite:///{database}", log)
    try:
        assert server.handler.stalled.wait(WAIT), log.read_text()[-3000:]
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    server.handler.release.set()
    second = _daemon(schedule, f"sqlite:///{database}", log)
    try:
        _until(lambda: _publication(database)[0] == "published", "never published", log)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    return _publication(database)[1]


def test_killed_before_the_final_line_the_rest_is_sent_once(tmp_path: Path) -> None:
    """Killed while the server sat on bob's RCPT: bob's message never left, so it goes now."""
    handler = Handler(stall_at=("rcpt", 2))
    with running(handler) as server:
        note = _killed_mid_send(tmp_path, server)
    assert handler.per_recipient() == {person: 1 for person in PEOPLE}
    assert note is None  # all three went out, none in doubt


def test_killed_while_the_server_took_it_that_one_is_not_sent_again(tmp_path: Path) -> None:
    """Killed while the server held bob's whole message unanswered: at most once for bob."""
    handler = Handler(stall_at=("data", 2))
    with running(handler) as server:
        note = _killed_mid_send(tmp_path, server)
    assert handler.per_recipient() == {person: 1 for person in PEOPLE}
    assert note is not None and "1 uncertain: bob@example.org" in note
