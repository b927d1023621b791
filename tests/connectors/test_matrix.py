"""Matrix connector: what goes into each client-server call, and how answers map to errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pydantic
import pytest
import requests
import responses
from responses import matchers

from connectors.base import (
    AuthError,
    MediaItem,
    MemoryState,
    RateLimited,
    Rejected,
    RenderedPost,
    Transient,
    Unknown,
)
from connectors.matrix import MatrixConnector, txn_id
from connectors.matrix.body import MATRIX_HTML_TAGS, message_content, plain_body
from crosspost.rendering.markdown import render_markdown
from crosspost.rendering.markdown_forms import form_of
from crosspost.rendering.markup import unmark
from tests.contract.harness import fixture

HS = "https://matrix.example.org"
TOKEN = "syt_dG93bi1ib3Q_unit_secret"
PASSWORD = "correct horse battery staple"
ROOM = "!Z7skNF8kJYgykP4vxTPQ0utX4OlP6YHcDL0K5klUmeY"
ROOM_PATH = f"{HS}/_matrix/client/v3/rooms/{quote(ROOM, safe='')}"
EVENT = "$rjRvxC9f_mCloAshijKEar_3BZaGEb5ohCUhzInjwzc"
WHOAMI = f"{HS}/_matrix/client/v3/account/whoami"
LOGIN = f"{HS}/_matrix/client/v3/login"


def payload(name: str) -> Any:
    return fixture("matrix", name)


def make(state: MemoryState | None = None, **overrides: Any) -> MatrixConnector:
    values: dict[str, Any] = {"homeserver": HS, "room": ROOM, "access_token": TOKEN, **overrides}
    if "user" in overrides:
        values.pop("access_token")
    settings = MatrixConnector.Settings.model_validate(values)
    return MatrixConnector("town", settings, state)


def send_url(key: str) -> str:
    return f"{ROOM_PATH}/send/m.room.message/{txn_id(key)}"


def post(*parts: str, media: tuple[MediaItem, ...] = ()) -> RenderedPost:
    return RenderedPost(parts=parts, content_id="c", media=media)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


# -- settings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"room": "#town:example.org"}, None),
        ({"homeserver": "http://127.0.0.1:8008"}, None),
        ({"homeserver": "http://matrix.example.org"}, "https://"),
        ({"room": "town"}, "room id"),
        ({"room": "#town"}, "room id"),
        ({"access_token": None}, "needs access_token"),
        ({"user": "@bot:example.org", "password": PASSWORD}, "not both"),
        ({"access_token": None, "user": "@bot:example.org"}, "needs access_token"),
        ({"access_token": None, "user": "bot", "password": PASSWORD}, None),
        ({"access_token": None, "user": "bot", "password": PASSWORD, "device_id": "a b"}, "device"),
        ({"msgtype": "m.emote"}, "msgtype"),
    ],
)
def test_settings(values: dict[str, Any], problem: str | None) -> None:
    entry = {"homeserver": HS, "room": ROOM, "access_token": TOKEN, **values}
    entry = {k: v for k, v in entry.items() if v is not None}
    if problem is None:
        MatrixConnector.Settings.model_validate(entry)
        return
    with pytest.raises(pydantic.ValidationError) as caught:
        MatrixConnector.Settings.model_validate(entry)
    assert problem in str(caught.value)
    assert TOKEN not in str(caught.value) and PASSWORD not in str(caught.value)


# -- the message ---------------------------------------------------------------------


def test_markdown_becomes_allowed_html_and_a_readable_body() -> None:
    source = "# Open day\n\nWe open **Friday**, see [the plan](https://x.example/p).\n\n1. tea\n2. tools\n\n![logo](https://x.example/l.png)"
    html = unmark(render_markdown(source, form_of(MatrixConnector))).text
    assert "<img" not in html  # Matrix clients only show mxc:// images
    content = message_content(html, "m.text")
    assert content["format"] == "org.matrix.custom.html"
    assert "<h1>Open day</h1>" in content["formatted_body"]
    assert content["body"] == (
        "Open day\n\nWe open Friday, see the plan (https://x.example/p).\n\n"
        "1. tea\n2. tools\n\nlogo (https://x.example/l.png)"
    )


def test_a_text_without_markup_has_no_formatted_body() -> None:
    assert message_content("Just words &amp; more", "m.notice") == {
        "msgtype": "m.notice",
        "body": "Just words & more",
    }


def test_the_spec_tags_are_declared() -> None:
    assert {
        "p",
        "a",
        "ul",
        "ol",
        "li",
        "b",
        "i",
        "s",
        "code",
        "pre",
        "blockquote",
    } <= MATRIX_HTML_TAGS
    assert {"img", "script", "iframe", "font"}.isdisjoint(MATRIX_HTML_TAGS)


def test_plain_body_keeps_a_link_that_shows_its_own_address() -> None:
    assert plain_body('<a href="https://x.example">https://x.example</a>') == "https://x.example"
    assert plain_body("a<br>b<hr>c") == "a\nb\n———\nc"


def test_text_and_relations_of_a_thread(rsps: responses.RequestsMock) -> None:
    rsps.get(WHOAMI, json=payload("whoami"))
    rsps.put(
        send_url("k"),
        json={"event_id": "$one"},
        match=[
            matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"}),
            matchers.json_params_matcher({"msgtype": "m.text", "body": "one"}),
        ],
    )
    second = {
        "msgtype": "m.text",
        "body": "two",
        "format": "org.matrix.custom.html",
        "formatted_body": "<b>two</b>",
        "m.relates_to": {
            "rel_type": "m.thread",
            "event_id": "$one",
            "is_falling_back": True,
            "m.in_reply_to": {"event_id": "$one"},
        },
    }
    rsps.put(
        send_url("k-1"), json={"event_id": "$two"}, match=[matchers.json_params_matcher(second)]
    )
    third = {**second, "body": "three", "formatted_body": "<b>three</b>"}
    third["m.relates_to"] = {**second["m.relates_to"], "m.in_reply_to": {"event_id": "$two"}}
    rsps.put(
        send_url("k-2"), json={"event_id": "$three"}, match=[matchers.json_params_matcher(third)]
    )

    published = make().publish(post("one", "<b>two</b>", "<b>three</b>"), "k")
    assert published.thread_ids == ("$one", "$two", "$three")


def test_an_image_is_uploaded_then_sent_with_its_alt_text(
    rsps: responses.RequestsMock, tmp_path: Path
) -> None:
    png = tmp_path / "logo.png"
    png.write_bytes(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x02\x80\x00\x00\x01\xe0" + b"\0" * 20
    )
    rsps.get(WHOAMI, json=payload("whoami"))
    rsps.put(send_url("k"), json=payload("send"))
    rsps.post(
        f"{HS}/_matrix/media/v3/upload",
        json=payload("upload"),
        match=[
            matchers.query_param_matcher({"filename": "logo.png"}),
            matchers.header_matcher({"Content-Type": "image/png"}),
        ],
    )
    image = {
        "msgtype": "m.image",
        "body": "Our logo: a white square",
        "url": payload("upload")["content_uri"],
        "info": {"mimetype": "image/png", "size": 44, "w": 640, "h": 480},
    }
    rsps.put(
        send_url("k media 0"),
        json={"event_id": "$img"},
        match=[matchers.json_params_matcher(image)],
    )

    media = (MediaItem(png, "Our logo: a white square", "image/png"),)
    published = make().publish(post("<p>Logo</p>", media=media), "k")
    assert published.extra["media_event_ids"] == ["$img"]
    assert published.extra["event_id"] == EVENT


def test_too_long_is_refused_before_anything_is_sent(rsps: responses.RequestsMock) -> None:
    connector = make()
    with pytest.raises(Rejected) as caught:
        connector.publish(post("é" * 20_000), "k")
    assert "bytes long" in str(caught.value)


# -- errors --------------------------------------------------------------------------


def test_the_body_gives_the_wait_when_no_header_does(rsps: responses.RequestsMock) -> None:
    rsps.get(WHOAMI, json=payload("whoami"))
    rsps.put(send_url("k"), json=payload("error_limit_exceeded"), status=429)
    before = datetime.now(UTC)
    with pytest.raises(RateLimited) as caught:
        make().publish(post("hi"), "k")
    wait = caught.value.retry_at - before
    assert timedelta(seconds=4) <= wait <= timedelta(seconds=6)


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (403, "error_forbidden", AuthError),
        (401, "error_unknown_token", AuthError),
        (413, "error_too_large", Rejected),
        (400, "error_bad_json", Rejected),
        (500, "error_unknown", Transient),  # a resend with the same txn id cannot double
        (502, None, Transient),
    ],
)
def test_errcodes(
    rsps: responses.RequestsMock, status: int, body: str | None, expected: type
) -> None:
    rsps.get(WHOAMI, json=payload("whoami"))
    if body is None:
        rsps.put(send_url("k"), body="<html><body>Bad gateway</body></html>", status=status)
    else:
        rsps.put(send_url("k"), json=payload(body), status=status)
    with pytest.raises(expected) as caught:
        make().publish(post("hi"), "k")
    assert "<html" not in str(caught.value) and TOKEN not in str(caught.value)


def test_a_lost_answer_is_unknown(rsps: responses.RequestsMock) -> None:
    rsps.get(WHOAMI, json=payload("whoami"))
    rsps.put(send_url("k"), body=requests.ReadTimeout("read timed out"))
    with pytest.raises(Unknown):
        make().publish(post("hi"), "k")


# -- signing in ----------------------------------------------------------------------


def _login_matcher() -> Any:
    return matchers.json_params_matcher(
        {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": "town-bot"},
            "password": PASSWORD,
            "device_id": "CROSSPOST",
            "initial_device_display_name": "crosspost",
            "refresh_token": True,
        }
    )


def test_a_password_login_is_made_once_as_the_fixed_device(rsps: responses.RequestsMock) -> None:
    state = MemoryState()
    login_token = payload("login")["access_token"]
    rsps.post(LOGIN, json=payload("login"), match=[_login_matcher()])
    bearer = matchers.header_matcher({"Authorization": f"Bearer {login_token}"})
    rsps.put(send_url("a"), json={"event_id": "$a"}, match=[bearer])
    rsps.put(send_url("b"), json={"event_id": "$b"}, match=[bearer])

    make(state, user="town-bot", password=PASSWORD).publish(post("a"), "a")
    again = make(state, user="town-bot", password=PASSWORD)  # a new process, the saved token
    assert again.publish(post("b"), "b").url.endswith("?via=example.org")  # type: ignore[union-attr]
    assert state.load()["session"]["device_id"] == "CROSSPOST"
    assert login_token not in repr(state) and PASSWORD not in repr(again)


def test_a_refused_token_is_refreshed_and_the_same_txn_sent_again(
    rsps: responses.RequestsMock,
) -> None:
    state = MemoryState()
    rsps.post(LOGIN, json=payload("login"))
    rsps.put(send_url("k"), json=payload("error_unknown_token"), status=401)
    rsps.post(
        f"{HS}/_matrix/client/v3/refresh",
        json=payload("refresh"),
        match=[matchers.json_params_matcher({"refresh_token": payload("login")["refresh_token"]})],
    )
    fresh = matchers.header_matcher(
        {"Authorization": f"Bearer {payload('refresh')['access_token']}"}
    )
    rsps.put(send_url("k"), json=payload("send"), match=[fresh])

    published = make(state, user="town-bot", password=PASSWORD).publish(post("hi"), "k")
    assert published.remote_id == EVENT
    assert state.load()["session"]["refresh_token"] == payload("refresh")["refresh_token"]


def test_a_refused_password_is_an_auth_error(rsps: responses.RequestsMock) -> None:
    rsps.post(LOGIN, json={"errcode": "M_FORBIDDEN", "error": "Invalid password"}, status=403)
    with pytest.raises(AuthError) as caught:
        make(user="town-bot", password=PASSWORD).publish(post("hi"), "k")
    assert "Invalid password" in str(caught.value) and PASSWORD not in str(caught.value)


def test_an_alias_is_resolved_once(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{HS}/_matrix/client/v3/directory/room/%23town%3Aexample.org", json=payload("directory")
    )
    rsps.get(WHOAMI, json=payload("whoami"))
    rsps.put(send_url("a"), json={"event_id": "$a"})
    rsps.put(send_url("b"), json={"event_id": "$b"})
    connector = make(room="#town:example.org")
    assert connector.publish(post("a"), "a").extra["room_id"] == ROOM
    connector.publish(post("b"), "b")
