"""A first comment on Bluesky's test network: a reply to the post, once, as the AppView sees it."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from crosspost.cli import cli
from tests.realserver.atproto import User, xrpc
from tests.realserver.conftest import DevEnv

pytestmark = pytest.mark.realserver


def run(schedule: Path, *args: str) -> dict[str, Any]:
    database = f"sqlite:///{schedule.parent / 'crosspost.db'}"
    result = CliRunner().invoke(cli, ["-s", str(schedule), "--database", database, *args])
    assert result.exit_code == 0, result.output
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def test_the_first_comment_is_a_reply_to_the_post_and_is_sent_once(
    bluesky_devenv: DevEnv, tmp_path: Path
) -> None:
    env = bluesky_devenv
    owner = User.sign_up(env.pds, "commenter")
    (tmp_path / ".env").write_text(f"BSKY_APP_PASSWORD={owner.app_password}\n", "utf-8")
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text(
        textwrap.dedent(
            f"""
            timezone: UTC
            accounts:
              bsky:
                connector: bluesky
                handle: {owner.handle}
                app_password: ${{BSKY_APP_PASSWORD}}
                service: {env.pds}
            content:
              - id: programme
                body: Our autumn programme is out.
                link: https://makerspace.example/programme
                first_comment: "Sign up here: {{{{ link }}}}"
            posts: []
            """
        ),
        encoding="utf-8",
    )
    first = run(schedule, "publish", "programme", "--to", "bsky", "--json")["publications"]
    again = run(schedule, "publish", "programme", "--to", "bsky", "--json")["publications"]
    assert first[0]["status"] == "published"
    assert first[0]["comment"].startswith("first comment published")
    assert "nothing sent" in again[0]["error"] and again[0].get("comment") is None
    env.sync()
    listed = xrpc(
        env.pds,
        "GET",
        "com.atproto.repo.listRecords",
        params={"repo": owner.did, "collection": "app.bsky.feed.post", "limit": 10},
    )["records"]
    assert len(listed) == 2  # the post and its comment, nothing twice
    post = next(r for r in listed if "reply" not in r["value"])
    comment = next(r for r in listed if "reply" in r["value"])
    assert comment["value"]["reply"]["parent"] == {"uri": post["uri"], "cid": post["cid"]}
    assert comment["value"]["reply"]["root"] == {"uri": post["uri"], "cid": post["cid"]}
    assert comment["value"]["text"].startswith("Sign up here: https://makerspace.example/programme")
    thread = xrpc(env.appview, "GET", "app.bsky.feed.getPostThread", params={"uri": post["uri"]})
    assert [r["post"]["uri"] for r in thread["thread"]["replies"]] == [comment["uri"]]
