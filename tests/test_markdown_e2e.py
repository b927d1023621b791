"""A one-off ``.md`` with emphasis, a link and a heading, published to Mastodon and Bluesky."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
import responses
from click.testing import CliRunner

from crosspost.cli import cli
from tests.contract.harness import fixture

SCHEDULE = """\
timezone: Europe/Kyiv
accounts:
  masto:
    connector: mastodon
    instance: https://social.example
    access_token: ${MASTODON_TOKEN}
  sky:
    connector: bluesky
    handle: crosspost.bsky.social
    app_password: ${BLUESKY_PASSWORD}
"""
POST = """\
---
title: Launch
---
# Big news

We spent **two hours** on [our guide](https://example.org/guide?a=1&b=2).
"""
PDS = "https://bsky.social/xrpc"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "schedule.yaml").write_text(SCHEDULE)
    (tmp_path / "launch.md").write_text(POST)
    monkeypatch.setenv("MASTODON_TOKEN", "token")
    monkeypatch.setenv("BLUESKY_PASSWORD", "abcd-efgh-ijkl-mnop")
    return tmp_path


def publish(base: Path, to: str) -> None:
    args = ["-s", str(base / "schedule.yaml"), "--database", f"sqlite:///{base}/x.db"]
    result = CliRunner().invoke(cli, [*args, "publish", str(base / "launch.md"), "--to", to])
    assert result.exit_code == 0, result.output + result.stderr


def test_mastodon_gets_clean_text(project: Path) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get("https://social.example/api/v2/instance", json=fixture("mastodon", "instance"))
        rsps.post("https://social.example/api/v1/statuses", json=fixture("mastodon", "status"))
        publish(project, "masto")
        (call,) = [c for c in rsps.calls if c.request.url.endswith("/api/v1/statuses")]
    body = call.request.body
    sent = dict(parse_qsl(body.decode() if isinstance(body, bytes) else str(body)))
    assert sent["status"] == (
        "Big news\n\nWe spent two hours on our guide (https://example.org/guide?a=1&b=2)."
    )


def test_bluesky_gets_a_link_facet_over_the_link_text(project: Path) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.post(
            f"{PDS}/com.atproto.server.createSession", json=fixture("bluesky", "create_session")
        )
        rsps.post(f"{PDS}/com.atproto.repo.createRecord", json=fixture("bluesky", "create_record"))
        publish(project, "sky")
        (call,) = [c for c in rsps.calls if c.request.url.endswith("createRecord")]
    record = json.loads(call.request.body)["record"]
    assert record["text"] == "Big news\n\nWe spent two hours on our guide."
    (facet,) = record["facets"]
    assert facet["features"] == [
        {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.org/guide?a=1&b=2"}
    ]
    start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
    assert record["text"].encode()[start:end] == b"our guide"
