"""The e-mail connector's own rules, against a scripted SMTP server (tests/fakesmtp.py).

The real-server tests (aiosmtpd on loopback, and a daemon killed mid-send) are in
tests/realserver/test_email.py.
"""

from __future__ import annotations

import smtplib
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from connectors.base import (
    AuthError,
    Connector,
    FollowerList,
    InputFiles,
    RateLimited,
    Rejected,
    RenderedPost,
    Transient,
)
from connectors.email import EmailConnector
from connectors.email.delivery import INTERRUPTED
from connectors.progress import MemoryProgress, Resumable, Step, StepState
from crosspost.loading import registry
from tests.fakesmtp import FakeServer

KEY = "crosspost-0123456789abcdef0123456789abcdef"
NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
THREE = "email,name\nann@example.org,Ann\nbob@example.org,Bob\ncid@example.org,\n"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def make(
    tmp_path: Path, server: FakeServer, listing: str = THREE, name: str = "list.csv", **values: Any
) -> EmailConnector:
    (tmp_path / name).write_text(listing, encoding="utf-8")
    settings = EmailConnector.Settings.model_validate(
        {
            "host": "smtp.example.org",
            "username": "news@example.org",
            "password": "s3cret-pass",
            "from_address": "news@example.org",
            "from_name": "Makerspace",
            "recipients": name,
            "base_dir": tmp_path,
            "subject": "Makerspace news: {title}",
            "unsubscribe_url": "https://example.org/leave?who={email}",
            "unsubscribe_mailto": "leave@example.org?subject=leave {email}",
            **values,
        }
    )
    server.credentials = server.credentials or ("news@example.org", "s3cret-pass")
    return EmailConnector("news", settings, clock=Clock(), smtp_factory=server.factory)


def post(**values: Any) -> RenderedPost:
    fields: dict[str, Any] = {
        "parts": ('<p>Open <b>night</b> on <a href="https://example.org/n">Friday</a></p>',),
        "alternative": "Open night on Friday (https://example.org/n)",
        "title": "Open night",
        "content_id": "open-night",
    }
    return RenderedPost(**{**fields, **values})


# -- manifest and settings ------------------------------------------------------


def test_registered_with_its_abilities(tmp_path: Path) -> None:
    assert registry.load("email") is EmailConnector
    connector = make(tmp_path, FakeServer())
    assert isinstance(connector, Connector)
    assert isinstance(connector, Resumable)
    assert isinstance(connector, InputFiles)
    assert isinstance(connector, FollowerList)


@pytest.mark.parametrize(
    ("values", "wrong"),
    [
        ({"security": "none"}, "only allowed for a relay on this machine"),
        ({"password": None}, "username and password go together"),
        ({"from_address": "news@"}, "not an e-mail address"),
        ({"reply_to": "hello@example.invalidtld"}, "not a top-level domain"),
        ({"unsubscribe_url": "http://example.org/leave"}, "https://"),
        ({"unsubscribe_url": "https://example.org/{who}"}, "unknown placeholder {who}"),
        ({"subject": "{title} {author}"}, "unknown placeholder {author}"),
        ({"max_per_minute": 0}, "greater than or equal to 1"),
        ({"smtp_server": "x"}, "Extra inputs"),
    ],
)
def test_bad_settings_are_refused(tmp_path: Path, values: dict[str, Any], wrong: str) -> None:
    with pytest.raises(ValidationError) as caught:
        make(tmp_path, FakeServer(), **values)
    assert wrong in str(caught.value)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_no_tls_only_on_loopback(tmp_path: Path, host: str) -> None:
    connector = make(tmp_path, FakeServer(), security="none", host=host)
    assert connector.settings.effective_port == 25


def test_default_ports() -> None:
    from connectors.email.settings import Security

    assert [s.default_port for s in Security] == [587, 465, 25]


# -- the recipient list -----------------------------------------------------------


def test_a_text_list_takes_names_comments_and_blank_lines(tmp_path: Path) -> None:
    listing = "# members\nann@example.org\n\nBob Baker <Bob@Example.ORG>\n"
    connector = make(tmp_path, FakeServer(), listing, name="list.txt")
    recipients = connector.recipients()
    assert [(r.address, r.name, r.line) for r in recipients] == [
        ("ann@example.org", "", 2),
        ("Bob@example.org", "Bob Baker", 4),
    ]


def test_every_bad_line_is_a_problem_at_its_line(tmp_path: Path) -> None:
    listing = (
        "Email,Name,Joined\n"
        "ann@example.org,Ann,2026\n"
        "bob@example,Bob,2026\n"
        "ANN@example.org,Ann again,2026\n"
        ",Nobody,2026\n"
        "zoë@example.org,Zoë,2026\n"
    )
    connector = make(tmp_path, FakeServer(), listing)
    problems = [str(p) for p in connector.input_problems()]
    assert problems == [
        "list.csv:3:1: 'bob@example': 'example' is not a valid domain",
        "list.csv:4:1: ANN@example.org is already listed on line 2",
        "list.csv:5:1: '' is not an e-mail address (expected name@example.org)",
        "list.csv:6:1: 'zoë@example.org': a non-ASCII name before the @ needs SMTPUTF8, "
        "which is not supported",
    ]
    with pytest.raises(Rejected, match="the recipient list needs fixing first: list.csv:3:1"):
        connector.publish(post(), KEY)


@pytest.mark.parametrize(
    ("listing", "problem"),
    [
        ("name,address\nAnn,ann@example.org\n", "list.csv:1:1: no email column"),
        ("", "list.csv:1:1: the file is empty"),
        ("email\n", "list.csv:1:1: the recipient list is empty"),
    ],
)
def test_a_csv_without_addresses_is_a_problem(tmp_path: Path, listing: str, problem: str) -> None:
    connector = make(tmp_path, FakeServer(), listing)
    assert str(connector.input_problems()[0]).startswith(problem)


def test_a_missing_list_is_a_problem_and_nothing_is_sent(tmp_path: Path) -> None:
    server = FakeServer()
    connector = make(tmp_path, server)
    (tmp_path / "list.csv").unlink()
    assert "file not found" in str(connector.input_problems()[0])
    with pytest.raises(Rejected):
        connector.publish(post(), KEY)
    assert server.connections == 0


def test_followers_are_the_list(tmp_path: Path) -> None:
    connector = make(tmp_path, FakeServer())
    assert connector.account_metrics().followers == 3
    assert [f.handle for f in connector.followers(2)] == ["ann@example.org", "bob@example.org"]


# -- the messages -------------------------------------------------------------------


def test_one_message_per_recipient_with_both_parts_and_list_headers(tmp_path: Path) -> None:
    server = FakeServer()
    published = make(tmp_path, server).publish(post(), KEY)
    assert server.recipients() == ["ann@example.org", "bob@example.org", "cid@example.org"]
    assert server.tls and server.logins == [("news@example.org", "s3cret-pass")]
    assert server.commands.index("STARTTLS") < server.commands.index("AUTH")
    first = server.messages()[0]
    assert first["To"] == "Ann <ann@example.org>"  # one recipient, never the list
    assert first["From"] == "Makerspace <news@example.org>"
    assert first["Subject"] == "Makerspace news: Open night"
    assert first["List-Unsubscribe"] == (
        "<https://example.org/leave?who=ann@example.org>, "
        "<mailto:leave@example.org?subject=leave%20ann@example.org>"
    )
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert first.get_content_type() == "multipart/alternative"
    text = first.get_body(("plain",))
    html = first.get_body(("html",))
    assert text is not None and html is not None
    assert "Open night on Friday (https://example.org/n)" in text.get_content()
    assert '<a href="https://example.org/n">Friday</a>' in html.get_content()
    assert "https://example.org/leave?who=ann@example.org" in html.get_content()
    assert published.extra == {"recipients": 3, "sent": 3, "refused": 0, "uncertain": 0}
    assert published.note is None and published.url is None


def test_message_ids_are_stable_per_recipient(tmp_path: Path) -> None:
    server = FakeServer()
    connector = make(tmp_path, server)
    connector.publish(post(), KEY)
    connector.publish(post(), KEY)  # a bare publish keeps no steps: everyone again
    ids = [str(m["Message-ID"]) for m in server.messages()]
    assert ids[:3] == ids[3:]
    assert len(set(ids)) == 3
    assert all(i.startswith(f"<{KEY}.") and i.endswith("@example.org>") for i in ids)
    assert not any("ann" in i for i in ids)


def test_the_subject_falls_back_to_the_first_line_and_takes_an_override(tmp_path: Path) -> None:
    server = FakeServer()
    connector = make(tmp_path, server, subject="{title} ({date})")
    connector.publish(post(title=""), KEY)
    connector.publish(post(options={"subject": "Special: {title}"}), KEY + "1")
    subjects = {str(m["Subject"]) for m in server.messages()}
    fallback = "Open night on Friday (https://example.org/n) (2026-12-07)"
    assert subjects == {fallback, "Special: Open night"}


def test_options_and_size_are_checked(tmp_path: Path) -> None:
    connector = make(tmp_path, FakeServer())
    assert connector.check(post(options={"colour": "red"})) == [
        "unknown option 'colour' (known: subject)"
    ]
    big = post(parts=("<p>" + "é" * 51_000 + "</p>",))
    assert connector.check(big) == ["text is 102007 bytes long (at most 102000 on email)"]


def test_a_notification_is_plain_text_made_safe_as_html(tmp_path: Path) -> None:
    server = FakeServer()
    notice = RenderedPost(parts=("3 posts failed <see status>\nrun crosspost status",))
    make(tmp_path, server).publish(notice, KEY)
    message = server.messages()[0]
    assert message["Subject"] == "Makerspace news: 3 posts failed <see status>"
    html = message.get_body(("html",))
    assert html is not None
    assert "3 posts failed &lt;see status&gt;<br>" in html.get_content()


def test_media_go_as_attachments(tmp_path: Path) -> None:
    from connectors.base import MediaItem

    image = tmp_path / "flyer.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\nfake")
    server = FakeServer()
    make(tmp_path, server).publish(post(media=(MediaItem(image, "flyer", "image/png"),)), KEY)
    message = server.messages()[0]
    assert message.get_content_type() == "multipart/mixed"
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "flyer.png"
    assert attachment.get_content() == b"\x89PNG\r\n\x1a\nfake"


# -- refusals and failures, per recipient -----------------------------------------------


def test_a_refused_recipient_does_not_stop_the_others(tmp_path: Path) -> None:
    server = FakeServer(rcpt_replies={"bob@example.org": (550, b"5.1.1 <bob>: no such user")})
    progress = MemoryProgress()
    published = make(tmp_path, server).publish_steps(post(), KEY, progress)
    assert server.recipients() == ["ann@example.org", "cid@example.org"]
    assert published.note == (
        "sent to 2 of 3, 1 refused: bob@example.org "
        "(the server refused the recipient: 550 5.1.1 <bob>: no such user)"
    )
    assert progress.steps()["bob@example.org"].state is StepState.REFUSED
    assert "RSET" in server.commands


def test_refused_for_everyone_is_rejected(tmp_path: Path) -> None:
    server = FakeServer(mail_reply=(553, b"5.7.1 sender not allowed"))
    with pytest.raises(Rejected, match="refused for every recipient: sent to 0 of 3, 3 refused"):
        make(tmp_path, server).publish(post(), KEY)


def test_a_deferred_recipient_is_tried_again_alone(tmp_path: Path) -> None:
    server = FakeServer(final={"bob@example.org": (452, b"4.2.2 mailbox full")})
    connector, progress = make(tmp_path, server), MemoryProgress()
    with pytest.raises(Transient, match="1 deferred: bob@example.org"):
        connector.publish_steps(post(), KEY, progress)
    server.final.clear()
    published = connector.publish_steps(post(), KEY, progress)
    assert server.recipients() == ["ann@example.org", "cid@example.org", "bob@example.org"]
    assert published.note is None


def test_a_lost_answer_to_the_final_line_is_never_sent_again(tmp_path: Path) -> None:
    server = FakeServer(final={"bob@example.org": TimeoutError("timed out")})
    connector, progress = make(tmp_path, server), MemoryProgress()
    with pytest.raises(Transient, match="sent to 1 of 3, 1 uncertain: bob@example.org"):
        connector.publish_steps(post(), KEY, progress)
    server.final.clear()
    published = connector.publish_steps(post(), KEY, progress)
    assert server.recipients() == ["ann@example.org", "cid@example.org"]
    assert published.note is not None and "1 uncertain: bob@example.org" in published.note
    assert progress.steps()["bob@example.org"].state is StepState.UNCERTAIN


def test_a_connection_lost_before_the_final_line_sends_it_again(tmp_path: Path) -> None:
    lost = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
    server = FakeServer(rcpt_replies={"bob@example.org": lost})
    connector, progress = make(tmp_path, server), MemoryProgress()
    with pytest.raises(Transient, match="sent to 1 of 3, 2 not tried yet"):
        connector.publish_steps(post(), KEY, progress)
    assert "bob@example.org" not in progress.steps()
    server.rcpt_replies.clear()
    assert connector.publish_steps(post(), KEY, progress).note is None
    assert server.recipients() == ["ann@example.org", "bob@example.org", "cid@example.org"]


def test_a_recipient_started_before_a_crash_is_uncertain_not_resent(tmp_path: Path) -> None:
    server = FakeServer()
    progress = MemoryProgress(
        {
            "ann@example.org": Step(StepState.DONE, "250 ok"),
            "bob@example.org": Step(StepState.STARTED),
        }
    )
    published = make(tmp_path, server).publish_steps(post(), KEY, progress)
    assert server.recipients() == ["cid@example.org"]
    assert published.note == f"sent to 2 of 3, 1 uncertain: bob@example.org ({INTERRUPTED})"


def test_started_is_recorded_just_before_the_final_line(tmp_path: Path) -> None:
    server = FakeServer()
    progress = MemoryProgress()
    seen: list[list[tuple[str, StepState]]] = []
    server.on_final = lambda _rcpt: seen.append(list(progress.log))
    make(tmp_path, server).publish_steps(post(), KEY, progress)
    assert seen[0] == [("ann@example.org", StepState.STARTED)]
    assert progress.log[:2] == [
        ("ann@example.org", StepState.STARTED),
        ("ann@example.org", StepState.DONE),
    ]


def test_a_lost_claim_stops_before_the_final_line(tmp_path: Path) -> None:
    class Losing(MemoryProgress):
        def record(self, name: str, state: StepState, detail: str = "") -> bool:
            return False if name == "bob@example.org" else super().record(name, state, detail)

    server = FakeServer()
    with pytest.raises(Transient, match="another worker holds the newsletter"):
        make(tmp_path, server).publish_steps(post(), KEY, Losing())
    assert server.recipients() == ["ann@example.org"]
    assert "QUIT" not in server.commands  # dropped in the middle of DATA, not a word more


def test_pacing_ends_a_round_with_a_rate_limit(tmp_path: Path) -> None:
    server = FakeServer()
    connector, progress = make(tmp_path, server, max_per_minute=2), MemoryProgress()
    with pytest.raises(RateLimited, match="paced at 2 a minute: sent to 2 of 3") as caught:
        connector.publish_steps(post(), KEY, progress)
    assert caught.value.retry_at > NOW + timedelta(seconds=60)
    assert server.recipients() == ["ann@example.org", "bob@example.org"]
    assert connector.publish_steps(post(), KEY, progress).note is None
    assert server.recipients()[2:] == ["cid@example.org"]


def test_everything_settled_sends_nothing(tmp_path: Path) -> None:
    server = FakeServer()
    done = {
        address: Step(StepState.DONE)
        for address in ("ann@example.org", "bob@example.org", "cid@example.org")
    }
    published = make(tmp_path, server).publish_steps(post(), KEY, MemoryProgress(done))
    assert published.extra["sent"] == 3
    assert server.connections == 0


# -- the session ----------------------------------------------------------------------


def test_refused_login_is_an_auth_error_and_the_secret_stays_hidden(tmp_path: Path) -> None:
    server = FakeServer(credentials=("news@example.org", "another"))
    connector = make(tmp_path, server)
    with pytest.raises(AuthError, match="refused the login: 535 5.7.8") as caught:
        connector.publish(post(), KEY)
    shown = " ".join([str(caught.value), repr(connector), repr(connector.settings)])
    assert "s3cret-pass" not in shown


def test_no_starttls_means_no_password(tmp_path: Path) -> None:
    server = FakeServer(extensions={"auth"})
    with pytest.raises(AuthError, match="offers no STARTTLS"):
        make(tmp_path, server).publish(post(), KEY)
    assert server.logins == []


def test_refused_connection_is_transient(tmp_path: Path) -> None:
    server = FakeServer(connect_error=ConnectionRefusedError(111, "Connection refused"))
    with pytest.raises(Transient, match="cannot connect to smtp.example.org:587"):
        make(tmp_path, server).publish(post(), KEY)


def test_a_busy_server_is_a_rate_limit(tmp_path: Path) -> None:
    busy = smtplib.SMTPConnectError(421, b"4.7.0 too many connections, try later")
    server = FakeServer(connect_error=busy)
    with pytest.raises(RateLimited) as caught:
        make(tmp_path, server).publish(post(), KEY)
    assert caught.value.retry_at >= NOW + timedelta(minutes=5)


def test_nothing_listens_on_a_real_closed_port(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "list.txt").write_text("ann@example.org\n", encoding="utf-8")
    settings = EmailConnector.Settings(
        host="127.0.0.1",
        port=port,
        security="none",
        from_address="news@example.org",
        recipients=Path("list.txt"),
        base_dir=tmp_path,
        timeout=5,
    )
    with pytest.raises(Transient, match="cannot connect"):
        EmailConnector("news", settings).publish(post(), KEY)
