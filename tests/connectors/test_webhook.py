"""Webhook connector: the signed request, the payload or the user's template, answers to errors."""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pydantic
import pytest
import requests
import responses
from standardwebhooks import Webhook

from connectors.base import (
    AccountMetrics,
    AuthError,
    MediaItem,
    Poll,
    RateLimited,
    Rejected,
    RenderedPost,
    Transient,
    Unknown,
)
from connectors.webhook import WebhookConnector, sign
from tests.contract.harness import connection_refused
from tests.fakes import run_in

URL = "https://hooks.example.org/crosspost/T0k3nInPath"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
KEY = "crosspost-6f1c0e8d2b7a4f3e9c1d5a7b3e2f4c6d"
NOW = datetime.now(UTC).replace(microsecond=0)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "connectors" / "webhook.md"


def make(tmp_path: Path | None = None, **overrides: Any) -> WebhookConnector:
    values: dict[str, Any] = {"url": URL, "secret": SECRET, **overrides}
    if tmp_path is not None:
        values.setdefault("templates_dir", tmp_path / "templates")
        values.setdefault("base_dir", tmp_path)
    connector = WebhookConnector("automation", WebhookConnector.Settings.model_validate(values))
    connector.http.clock = lambda: NOW
    return connector


def post(**fields: Any) -> RenderedPost:
    values: dict[str, Any] = {
        "parts": ("We open the doors at **10:00**.",),
        "content_id": "launch",
        "title": "Launch day",
        "link": "https://club.example.org/launch",
        "tags": ("python", "community"),
        "scheduled_at": datetime(2026, 11, 26, 11, 0, tzinfo=UTC),
    }
    return RenderedPost(**{**values, **fields})


def template(tmp_path: Path, name: str, text: str) -> None:
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def sent(rsps: responses.RequestsMock, index: int = -1) -> requests.PreparedRequest:
    return rsps.calls[index].request


def body_of(request: requests.PreparedRequest) -> bytes:
    assert isinstance(request.body, bytes)
    return request.body


# --------------------------------------------------------------------------- settings

VALID_SETTINGS = [
    {"url": "http://127.0.0.1:8080/hook"},
    {"url": URL, "secret": SECRET, "timeout": 10},
    {"url": URL, "headers": {"Authorization": "Bearer x", "X-Team": "club"}},
    {"url": URL, "idempotency_header": None},
    {"url": URL, "secret": "whsec_" + base64.b64encode(b"k" * 64).decode()},
]
INVALID_SETTINGS = [
    ({"url": "ftp://hooks.example.org/"}, "url", "http:// or https://"),
    ({"url": "https:///path"}, "url", "http:// or https://"),
    ({"url": URL + "#part"}, "url", "fragment"),
    ({"url": URL, "secret": "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, "secret", "whsec_"),
    ({"url": URL, "secret": "whsec_not*base64!"}, "secret", "base64"),
    ({"url": URL, "secret": "whsec_" + base64.b64encode(b"k" * 16).decode()}, "secret", "24 to 64"),
    ({"url": URL, "headers": {"X Team": "a"}}, "headers", "not a header name"),
    ({"url": URL, "headers": {"Webhook-Id": "a"}}, "headers", "written by crosspost"),
    ({"url": URL, "headers": {"X-Team": "a\r\nInjected: 1"}}, "headers", "line break"),
    ({"url": URL, "idempotency_header": "webhook-signature"}, "idempotency_header", "crosspost"),
    ({"url": URL, "timeout": 600}, "timeout", "120"),
    ({"url": URL, "body_template": "hook.json.j2"}, "body_template", "templates folder"),
    ({"url": URL, "methd": "PUT"}, "methd", "Extra inputs"),
]


@pytest.mark.parametrize("values", VALID_SETTINGS)
def test_valid_settings(values: dict[str, Any]) -> None:
    WebhookConnector.Settings.model_validate(values)


@pytest.mark.parametrize(("values", "field", "words"), INVALID_SETTINGS)
def test_invalid_settings_say_why_and_never_the_secret(
    values: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        WebhookConnector.Settings.model_validate(values)
    message = str(caught.value)
    assert field in message and words in message
    assert SECRET.removeprefix("whsec_") not in message


def test_repr_and_logs_never_show_the_url_token_or_header_values(
    rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rsps.post(URL, status=401, json={"error": "bad signature"})
    connector = make(headers={"Authorization": "Bearer hook-bearer-5f2c9a"})
    with pytest.raises(AuthError) as caught:
        connector.publish(post(), KEY)
    shown = caplog.text + str(caught.value) + repr(connector) + repr(connector.settings)
    for secret in ("T0k3nInPath", "hook-bearer-5f2c9a", SECRET.removeprefix("whsec_")):
        assert secret not in shown
    assert "https://hooks.example.org/…" in repr(connector.settings)


# --------------------------------------------------------------------------- the request


def test_the_documented_payload(rsps: responses.RequestsMock, tmp_path: Path) -> None:
    rsps.post(URL, status=204)
    doors = tmp_path / "doors.png"
    doors.write_bytes(b"\x89PNG")
    media = (MediaItem(doors, "The front door", "image/png"),)
    make().publish(post(media=media, poll=Poll(("Yes", "No"))), KEY)
    assert json.loads(body_of(sent(rsps))) == {
        "type": "post.published",
        "timestamp": NOW.isoformat().replace("+00:00", "Z"),
        "data": {
            "id": "launch",
            "idempotency_key": KEY,
            "account": "automation",
            "title": "Launch day",
            "text": "We open the doors at **10:00**.",
            "parts": ["We open the doors at **10:00**."],
            "link": "https://club.example.org/launch",
            "media": [{"path": str(doors), "alt": "The front door", "mime_type": "image/png"}],
            "tags": ["python", "community"],
            "poll": {"options": ["Yes", "No"], "duration_seconds": 86400, "multiple": False},
            "content_warning": "",
            "language": None,
            "due_at": "2026-11-26T11:00:00Z",
            "options": {},
        },
    }


def test_headers_say_the_key_the_time_and_the_signature(rsps: responses.RequestsMock) -> None:
    rsps.post(URL, status=200)
    make(headers={"X-Team": "club"}).publish(post(), KEY)
    headers = sent(rsps).headers
    assert headers["Content-Type"] == "application/json"
    assert headers["webhook-id"] == KEY and headers["Idempotency-Key"] == KEY
    assert headers["webhook-timestamp"] == str(int(NOW.timestamp()))
    assert headers["X-Team"] == "club"
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    body = body_of(sent(rsps)).decode()
    assert headers["webhook-signature"] == sign(key, KEY, int(NOW.timestamp()), body)


def test_the_reference_library_verifies_the_signature(rsps: responses.RequestsMock) -> None:
    rsps.post(URL, status=200)
    make().publish(post(parts=("Ünïcode ✓ & <b>",)), KEY)
    request = sent(rsps)
    verified = Webhook(SECRET).verify(body_of(request), dict(request.headers))
    assert verified["data"]["text"] == "Ünïcode ✓ & <b>"


def _docs_snippet() -> str:
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## Verifying a request", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found is not None, "the docs page lost its receiver snippet"
    return found.group(1)


def test_the_snippet_in_the_docs_verifies_our_signature(rsps: responses.RequestsMock) -> None:
    rsps.post(URL, status=200)
    make().publish(post(), KEY)
    namespace: dict[str, Any] = {}
    exec(compile(_docs_snippet(), str(DOCS), "exec"), namespace)  # noqa: S102 (our own docs)
    verify = namespace["verify"]
    request = sent(rsps)
    headers, body = dict(request.headers), body_of(request)
    assert verify(SECRET, headers, body) is True
    assert verify(SECRET, headers, body.replace(b"10:00", b"11:00")) is False
    other = "whsec_" + base64.b64encode(b"x" * 32).decode()
    assert verify(other, headers, body) is False
    stale = {**headers, "webhook-timestamp": str(int(NOW.timestamp()) - 600)}
    assert verify(SECRET, stale, body) is False
    assert verify(SECRET, {k: v for k, v in headers.items() if k != "webhook-id"}, body) is False


def test_unsigned_without_a_secret_and_no_idempotency_header_when_null(
    rsps: responses.RequestsMock,
) -> None:
    rsps.post(URL, status=200)
    make(secret=None, idempotency_header=None).publish(post(), KEY)
    headers = sent(rsps).headers
    assert "webhook-signature" not in headers and "Idempotency-Key" not in headers
    assert headers["webhook-id"] == KEY


def test_a_resend_has_the_same_id_and_a_fresh_signature(rsps: responses.RequestsMock) -> None:
    rsps.post(URL, status=503)
    rsps.post(URL, status=200)
    connector = make(idempotency_header="X-Dedup")
    with pytest.raises(Transient):
        connector.publish(post(), KEY)
    connector.http.clock = lambda: NOW + timedelta(minutes=5)
    connector.publish(post(), KEY)
    first, second = sent(rsps, 0).headers, sent(rsps, 1).headers
    assert first["webhook-id"] == second["webhook-id"] == second["X-Dedup"] == KEY
    assert first["webhook-timestamp"] != second["webhook-timestamp"]
    assert first["webhook-signature"] != second["webhook-signature"]


# --------------------------------------------------------------------------- answers


@pytest.mark.parametrize(
    ("answer", "remote_id", "url"),
    [
        ({"status": 204}, KEY, None),
        ({"status": 200, "body": "ok", "content_type": "text/plain"}, KEY, None),
        (
            {"status": 200, "json": {"id": 8812, "url": "https://runs.example/8812"}},
            "8812",
            "https://runs.example/8812",
        ),
        ({"status": 202, "json": {"id": "", "url": "javascript:alert(1)"}}, KEY, None),
        ({"status": 200, "json": {"id": True}}, KEY, None),
        ({"status": 200, "json": ["queued"]}, KEY, None),
    ],
)
def test_the_receivers_id_and_url_when_it_gives_them(
    rsps: responses.RequestsMock, answer: dict[str, Any], remote_id: str, url: str | None
) -> None:
    rsps.post(URL, **answer)
    published = make().publish(post(), KEY)
    assert (published.remote_id, published.url) == (remote_id, url)
    assert published.extra["webhook_id"] == KEY


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, Rejected),
        (404, Rejected),
        (410, Rejected),
        (422, Rejected),
        (401, AuthError),
        (403, AuthError),
        (500, Transient),
        (502, Transient),
        (503, Transient),
    ],
)
def test_statuses(rsps: responses.RequestsMock, status: int, error: type[Exception]) -> None:
    rsps.post(URL, status=status, body="no")
    with pytest.raises(error):
        make().publish(post(), KEY)


@pytest.mark.parametrize(
    "retry_after",
    ["120", (NOW + timedelta(seconds=120)).strftime("%a, %d %b %Y %H:%M:%S GMT")],
    ids=["seconds", "http-date"],  # the same in every pytest-xdist worker: the date is not
)
def test_429_comes_back_at_retry_after(rsps: responses.RequestsMock, retry_after: str) -> None:
    rsps.post(URL, status=429, headers={"Retry-After": retry_after})
    with pytest.raises(RateLimited) as caught:
        make().publish(post(), KEY)
    assert caught.value.retry_at == NOW + timedelta(seconds=120)


@pytest.mark.parametrize(
    ("exc", "error"),
    [
        (connection_refused(), Transient),
        (requests.ReadTimeout("read timed out"), Unknown),
        (requests.ConnectionError("Connection aborted."), Unknown),
    ],
)
def test_lost_requests(
    rsps: responses.RequestsMock, exc: Exception, error: type[Exception]
) -> None:
    rsps.post(URL, body=exc)
    with pytest.raises(error):
        make().publish(post(), KEY)


def test_a_redirect_is_not_followed(rsps: responses.RequestsMock) -> None:
    rsps.post(URL, status=308, headers={"Location": "https://new.example.org/hook"})
    with pytest.raises(Rejected, match="redirect to new.example.org"):
        make().publish(post(), KEY)
    assert len(rsps.calls) == 1


def test_no_metrics_and_no_requests_for_them(rsps: responses.RequestsMock) -> None:
    connector = make()
    assert connector.fetch_metrics([KEY]) == {}
    assert connector.account_metrics() == AccountMetrics()


# --------------------------------------------------------------------------- body template

HOOK = (
    '{"channel": "#news",\n'
    ' "message": {{ text | tojson }},\n'
    ' "labels": {{ tags | tojson }},\n'
    ' "dedup": {{ idempotency_key | tojson }}}\n'
)


def test_the_body_template_writes_the_body_that_is_signed(
    rsps: responses.RequestsMock, tmp_path: Path
) -> None:
    template(tmp_path, "hook.json.j2", HOOK)
    rsps.post(URL, status=200)
    make(tmp_path, body_template="hook.json.j2").publish(post(parts=('Say "hi" <b>',)), KEY)
    request = sent(rsps)
    assert json.loads(body_of(request)) == {
        "channel": "#news",
        "message": 'Say "hi" <b>',
        "labels": ["python", "community"],
        "dedup": KEY,
    }
    Webhook(SECRET).verify(body_of(request), dict(request.headers))


def test_the_template_is_read_when_the_project_loads(
    rsps: responses.RequestsMock, tmp_path: Path
) -> None:
    template(tmp_path, "hook.json.j2", HOOK)
    connector = make(tmp_path, body_template="hook.json.j2")
    template(tmp_path, "hook.json.j2", "not json at all")
    rsps.post(URL, status=200)
    connector.publish(post(), KEY)
    assert json.loads(body_of(sent(rsps)))["channel"] == "#news"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            '{"title": {{ titel | tojson }}}',
            ["hook.json.j2:1:14", "'titel' is undefined", 'did you mean "title"?'],
        ),
        ('{"title": {{ title }}}', ["not JSON", "line 1, column 11", "tojson"]),
        (
            '{"n": [{% for i in range(10**7) %}{{ i }},{% endfor %}0]}',
            ["hook.json.j2:1", "range bound"],
        ),
    ],
)
def test_check_names_the_template_line_or_the_json_error(
    tmp_path: Path, text: str, words: list[str]
) -> None:
    template(tmp_path, "hook.json.j2", text)
    problems = make(tmp_path, body_template="hook.json.j2").check(post())
    assert len(problems) == 1
    for word in words:
        assert word in problems[0]


def test_a_failing_template_sends_nothing(rsps: responses.RequestsMock, tmp_path: Path) -> None:
    template(tmp_path, "hook.json.j2", '{"title": {{ title }}}')
    with pytest.raises(Rejected, match="not JSON"):
        make(tmp_path, body_template="hook.json.j2").publish(post(), KEY)
    assert len(rsps.calls) == 0


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        (
            "hook.jsn.j2",
            HOOK,
            ['no template "hook.jsn.j2" in templates', 'did you mean "hook.json.j2"?'],
        ),
        ("hook.json.j2", '{"a": {% if %}}', ["templates/hook.json.j2:1: template syntax"]),
    ],
)
def test_a_missing_or_broken_template_is_a_settings_error(
    tmp_path: Path, name: str, text: str, words: list[str]
) -> None:
    template(tmp_path, "hook.json.j2", text)
    with pytest.raises(pydantic.ValidationError) as caught:
        make(tmp_path, body_template=name)
    for word in words:
        assert word in str(caught.value)


# --------------------------------------------------------------------------- through a project

SCHEDULE = """\
accounts:
  automation:
    connector: webhook
    url: https://hooks.example.org/crosspost
    secret: ${HOOK_SECRET}
    body_template: BODY
content:
  - id: launch
    title: Launch day
    body: We open the doors at **10:00**.
    link: https://club.example.org/launch
    tags: [python, community]
posts:
  - id: launch-post
    content: launch
    to: automation
    at: 2030-01-01T10:00
"""


def _project(tmp_path: Path, body_template: str | None) -> None:
    schedule = SCHEDULE.replace("BODY", body_template or "")
    if body_template is None:
        schedule = schedule.replace("    body_template: \n", "")
    (tmp_path / "schedule.yaml").write_text(schedule, encoding="utf-8")


def test_publish_sends_tags_due_time_and_the_markdown(
    rsps: responses.RequestsMock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    _project(tmp_path, None)
    rsps.post("https://hooks.example.org/crosspost", status=200)
    result = run_in(tmp_path, "publish", "launch", "--to", "automation")
    assert result.exit_code == 0, result.output
    data = json.loads(body_of(sent(rsps)))["data"]
    assert data["tags"] == ["python", "community"]
    assert data["text"].startswith("We open the doors at **10:00**.")
    assert "utm_source=webhook" in data["link"]
    assert data["due_at"] is not None and data["due_at"].endswith("Z")


def test_check_reports_a_broken_template_at_its_line_in_the_schedule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    _project(tmp_path, "hook.json.j2")
    template(tmp_path, "hook.json.j2", '{"a": {% if %}}')
    result = run_in(tmp_path, "check")
    assert result.exit_code == 2
    assert "schedule.yaml:6:20: accounts.automation.body_template:" in result.output
    assert "templates/hook.json.j2:1: template syntax" in result.output


# --------------------------------------------------------------------------- doctor


def test_doctor_sends_nothing_and_says_so(rsps: responses.RequestsMock) -> None:
    diagnosis = make(url="http://hooks.example.org/x", secret=None).diagnose()
    assert diagnosis.ok and len(rsps.calls) == 0
    assert diagnosis.identity == "POST http://hooks.example.org/…"
    notes = " ".join(diagnosis.notes)
    assert "nothing was sent" in notes and "not signed" in notes and "plain http" in notes
    assert diagnosis.details == {"body": "post.published payload", "signature": "none"}


def test_doctor_renders_the_body_template(tmp_path: Path) -> None:
    template(tmp_path, "hook.json.j2", HOOK)
    diagnosis = make(tmp_path, body_template="hook.json.j2").diagnose()
    assert diagnosis.ok and diagnosis.notes == (
        "nothing was sent: a webhook cannot be asked anything without posting to it",
    )
    assert diagnosis.details["body"] == "template hook.json.j2"
