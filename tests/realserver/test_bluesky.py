"""The Bluesky connector against Bluesky's own test network (PLC, PDS, AppView on 127.0.0.1).

One story, run once per module (:func:`story`): crosspost publishes through the real
CLI and connector, two other accounts react as members would (plain XRPC), and the
real collector gathers it all into the store. Each test then checks one promise
against what the PDS and the AppView themselves say.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import struct
import textwrap
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlmodel import Session, col, select

from connectors.base import RenderedPost
from connectors.bluesky import BlueskyConnector
from crosspost.cli import cli
from crosspost.collecting.metrics import MetricsCollector
from crosspost.collecting.metrics_report import CollectReport
from crosspost.loading.project import load_project
from crosspost.publishing.outcome import idempotency_key
from crosspost.store import Store
from crosspost.store.models import (
    AccountSnapshot,
    Follower,
    FollowerEvent,
    Interaction,
    MetricSnapshot,
    Publication,
)
from tests.realserver.atproto import User, xrpc
from tests.realserver.conftest import DevEnv

pytestmark = pytest.mark.realserver

ACCOUNT = "bsky"
LONG_STORY = " ".join(
    f"Sentence {n} of the long story about our repair café, told at length on purpose."
    for n in range(1, 10)
)


def tiny_png(width: int = 3, height: int = 2) -> bytes:
    """A valid RGB PNG of ``width`` × ``height`` white pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = b"".join(b"\x00" + b"\xff" * 3 * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixels))
        + chunk(b"IEND", b"")
    )


def write_project(base: Path, pds: str, owner: User, member: User) -> Path:
    """A project with one Bluesky account and two pieces of content."""
    (base / "content").mkdir(parents=True)
    (base / "content" / "logo.png").write_bytes(tiny_png())
    (base / ".env").write_text(f"BSKY_APP_PASSWORD={owner.app_password}\n", encoding="utf-8")
    (base / "schedule.yaml").write_text(
        textwrap.dedent(
            f"""
            timezone: UTC
            content_dir: content
            accounts:
              {ACCOUNT}:
                connector: bluesky
                handle: {owner.handle}
                app_password: ${{BSKY_APP_PASSWORD}}
                service: {pds}
            posts: []
            """
        ),
        encoding="utf-8",
    )
    (base / "content" / "launch.md").write_text(
        textwrap.dedent(
            f"""
            ---
            title: Launch
            tags: [makerspace]
            media:
              - path: logo.png
                alt: A white square, our logo for now
            ---
            We open on Friday with @{member.handle}: read https://makerspace.example/open first.
            """
        ).lstrip(),
        encoding="utf-8",
    )
    (base / "content" / "story.md").write_text(
        f"---\ntitle: Story\n---\n{LONG_STORY}\n", encoding="utf-8"
    )
    return base / "schedule.yaml"


@dataclass
class Story:
    """What happened, and what the store, the PDS and the AppView hold afterwards."""

    env: DevEnv
    schedule: Path
    owner: User
    member: User
    friend: User
    publish_runs: list[dict[str, Any]] = field(default_factory=list)
    sessions: list[str] = field(default_factory=list)
    posts_after_first_runs: int = 0
    posts_after_rerun: int = 0
    rounds: list[CollectReport] = field(default_factory=list)
    member_posts: dict[str, dict[str, str]] = field(default_factory=dict)
    #: ``getProfile`` of the account, read right after the last collect round.
    profile: dict[str, Any] = field(default_factory=dict)
    #: The clock of the last collect round.
    last_round_at: datetime = datetime.min

    def store(self) -> Store:
        return Store(f"sqlite:///{self.schedule.parent / 'crosspost.db'}")

    def publication(self, content: str) -> Publication:
        with Session(self.store().engine) as session:
            rows = session.exec(select(Publication).where(Publication.content_id == content)).all()
        published = [row for row in rows if row.status == "published"]
        assert len(published) == 1, [(r.content_id, r.status, r.error) for r in rows]
        return published[0]

    def appview(self, nsid: str, **params: Any) -> Any:
        return xrpc(self.env.appview, "GET", nsid, params=params)

    def record(self, uri: str) -> dict[str, Any]:
        repo, collection, rkey = uri.removeprefix("at://").split("/")
        params = {"repo": repo, "collection": collection, "rkey": rkey}
        value: dict[str, Any] = xrpc(
            self.env.pds, "GET", "com.atproto.repo.getRecord", params=params
        )["value"]
        return value

    def owner_posts(self) -> int:
        params = {"repo": self.owner.did, "collection": "app.bsky.feed.post", "limit": 100}
        found = xrpc(self.env.pds, "GET", "com.atproto.repo.listRecords", params=params)
        return len(found["records"])


def cli_run(schedule: Path, *args: str) -> dict[str, Any]:
    database = f"sqlite:///{schedule.parent / 'crosspost.db'}"
    result = CliRunner().invoke(cli, ["-s", str(schedule), "--database", database, *args])
    assert result.exit_code == 0, result.output
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def state_file(schedule: Path) -> Path:
    return schedule.parent / ".crosspost" / "state" / f"{ACCOUNT}.json"


def saved_session(schedule: Path) -> str:
    return str(json.loads(state_file(schedule).read_text())["session"]["accessJwt"])


def expired_copy(token: str) -> str:
    """``token`` with an expiry in the past, signed as the dev PDS signs (its fixed secret)."""

    def encode(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header, payload, _ = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["iat"], claims["exp"] = int(time.time()) - 120, int(time.time()) - 60
    signed = f"{header}.{encode(json.dumps(claims).encode())}"
    signature = hmac.new(b"jwt-secret", signed.encode(), hashlib.sha256).digest()
    return f"{signed}.{encode(signature)}"


def collect_round(schedule: Path, at: datetime) -> CollectReport:
    """One round of the real collector at the time ``at`` (posts fall due by that clock)."""
    project = load_project(schedule)
    store = Store(f"sqlite:///{schedule.parent / 'crosspost.db'}")
    report = MetricsCollector(store, project, clock=lambda: at).run_due()
    store.close()
    return report


def ref(uri: str, cid: str) -> dict[str, str]:
    return {"uri": uri, "cid": cid}


def post_ref(story: Story, uri: str) -> dict[str, str]:
    posts = story.appview("app.bsky.feed.getPosts", uris=[uri])["posts"]
    return ref(posts[0]["uri"], posts[0]["cid"])


def act_as_members(story: Story) -> dict[str, dict[str, str]]:
    """Everything members do to the launch post and the thread, plus one mention."""
    member, friend, owner = story.member, story.friend, story.owner
    launch = post_ref(story, story.publication("launch").remote_id or "")
    parts = [post_ref(story, uri) for uri in story.publication("story").thread_ids or []]
    done = {
        "like": member.like(launch),
        "friend-like": friend.like(launch),
        "repost": member.repost(launch),
        "reply": member.reply("Count me in!", root=launch, parent=launch),
        "quote": member.quote("Look at this", launch),
        "part-like": member.like(parts[1]),
        "part-reply": friend.reply("Lovely story", root=parts[0], parent=parts[-1]),
        "mention": member.mention(f"Thanks @{owner.handle} for the space", owner.handle, owner.did),
    }
    # The account answering a member is its own post: never member content.
    done["own-answer"] = owner.reply("See you there", root=launch, parent=done["reply"])
    return done


def run_story(env: DevEnv, base: Path) -> Story:
    owner, member, friend = (User.sign_up(env.pds, name) for name in ("makerclub", "ada", "ben"))
    story = Story(env, write_project(base, env.pds, owner, member), owner, member, friend)
    story.publish_runs.append(
        cli_run(story.schedule, "publish", "content/launch.md", "--to", ACCOUNT, "--json")
    )
    story.sessions.append(saved_session(story.schedule))
    story.publish_runs.append(
        cli_run(story.schedule, "publish", "content/story.md", "--to", ACCOUNT, "--json")
    )
    story.sessions.append(saved_session(story.schedule))
    story.posts_after_first_runs = story.owner_posts()
    story.publish_runs.append(
        cli_run(story.schedule, "publish", "content/launch.md", "--to", ACCOUNT, "--json")
    )
    story.posts_after_rerun = story.owner_posts()
    # The AppView indexes the PDS firehose on its own time: members only see what it has.
    env.sync()

    start = datetime.now(UTC)
    story.rounds.append(collect_round(story.schedule, start + timedelta(minutes=20)))
    follows = {"member": member.follow(owner.did), "friend": friend.follow(owner.did)}
    story.member_posts = act_as_members(story)
    env.sync()
    story.rounds.append(collect_round(story.schedule, start + timedelta(days=1, hours=1)))
    friend.unfollow(follows["friend"])
    env.sync()
    story.last_round_at = start + timedelta(days=3, hours=2)
    story.rounds.append(collect_round(story.schedule, story.last_round_at))
    story.profile = story.appview("app.bsky.actor.getProfile", actor=owner.did)
    story.sessions.append(saved_session(story.schedule))
    return story


@pytest.fixture(scope="module")
def story(bluesky_devenv: DevEnv, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    yield run_story(bluesky_devenv, tmp_path_factory.mktemp("bluesky-project"))


# -- publishing ------------------------------------------------------------------


def test_publish_sends_link_mention_and_tag_facets_at_utf8_offsets(story: Story) -> None:
    record = story.record(story.publication("launch").remote_id or "")
    text = record["text"].encode("utf-8")
    spans = {}
    for facet in record["facets"]:
        feature = facet["features"][0]
        covered = text[facet["index"]["byteStart"] : facet["index"]["byteEnd"]].decode("utf-8")
        spans[feature["$type"].rsplit("#", 1)[1]] = (covered, feature)
    assert spans["link"][0] == spans["link"][1]["uri"] == "https://makerspace.example/open"
    assert spans["mention"] == (
        f"@{story.member.handle}",
        {"$type": "app.bsky.richtext.facet#mention", "did": story.member.did},
    )
    assert spans["tag"][1]["tag"] == "makerspace"


def test_publish_uploads_the_image_with_alt_text_and_aspect_ratio(story: Story) -> None:
    uri = story.publication("launch").remote_id or ""
    view = story.appview("app.bsky.feed.getPosts", uris=[uri])["posts"][0]
    image = story.record(uri)["embed"]["images"][0]
    assert image["alt"] == "A white square, our logo for now"
    assert image["aspectRatio"] == {"width": 3, "height": 2}
    assert image["image"]["mimeType"] == "image/png"
    assert view["embed"]["images"][0]["alt"] == "A white square, our logo for now"


def test_long_text_becomes_a_thread_the_appview_shows_in_order(story: Story) -> None:
    publication = story.publication("story")
    parts = publication.thread_ids or []
    assert len(parts) >= 2 and parts[0] == publication.remote_id
    thread = story.appview("app.bsky.feed.getPostThread", uri=parts[0], depth=10)["thread"]
    chain, node = [], thread
    while node:
        chain.append(node["post"])
        own = [r for r in node.get("replies", []) if r["post"]["author"]["did"] == story.owner.did]
        node = own[0] if own else None
    assert [post["uri"] for post in chain] == parts
    assert " ".join(post["record"]["text"] for post in chain).split() == LONG_STORY.split()
    assert all(len(post["record"]["text"]) <= 300 for post in chain)


def test_rerun_after_publishing_sends_no_duplicate(story: Story) -> None:
    assert story.posts_after_first_runs == 1 + len(story.publication("story").thread_ids or [])
    assert story.posts_after_rerun == story.posts_after_first_runs
    (first,), (rerun,) = (story.publish_runs[i]["publications"] for i in (0, 2))
    assert rerun["url"] == first["url"] and "nothing sent" in rerun["error"]


def test_resend_under_the_same_key_returns_the_first_post(story: Story) -> None:
    project = load_project(story.schedule)
    connector = project.connector(ACCOUNT)
    assert isinstance(connector, BlueskyConnector)
    post = RenderedPost(parts=("A resend must not make a second post.",))
    first = connector.publish(post, "realserver-resend")
    before = story.owner_posts()
    again = load_project(story.schedule).connector(ACCOUNT).publish(post, "realserver-resend")
    assert again.remote_id == first.remote_id
    assert story.owner_posts() == before


def test_reconciling_finds_the_thread_at_its_keys(story: Story) -> None:
    publication = story.publication("story")
    key = idempotency_key(publication.entry, publication.occurrence, publication.account)
    found = load_project(story.schedule).connector(ACCOUNT).find_recent(key, LONG_STORY)
    assert found is not None
    assert list(found.thread_ids) == publication.thread_ids
    assert found.remote_id == publication.remote_id


def test_delete_removes_the_post_and_a_second_delete_is_harmless(story: Story) -> None:
    connector = load_project(story.schedule).connector(ACCOUNT)
    published = connector.publish(RenderedPost(parts=("Gone soon.",)), "realserver-delete")
    before = story.owner_posts()
    connector.delete(published.remote_id)
    connector.delete(published.remote_id)
    assert story.owner_posts() == before - 1


def test_an_unknown_handle_stays_plain_text_and_a_link_gets_a_card(story: Story) -> None:
    connector = load_project(story.schedule).connector(ACCOUNT)
    post = RenderedPost(
        parts=("Ask @nobody.test about https://makerspace.example/card",),
        title="Card title",
        link="https://makerspace.example/card",
    )
    record = story.record(connector.publish(post, "realserver-card").remote_id)
    assert [f["features"][0]["$type"] for f in record["facets"]] == ["app.bsky.richtext.facet#link"]
    assert record["embed"]["external"]["uri"] == "https://makerspace.example/card"
    assert record["embed"]["external"]["title"] == "Card title"


def test_the_session_is_reused_across_runs(story: Story) -> None:
    assert len(set(story.sessions)) == 1, "a later run logged in again"


def test_an_expired_access_token_is_refreshed_without_logging_in(
    story: Story, caplog: pytest.LogCaptureFixture
) -> None:
    path = state_file(story.schedule)
    state = json.loads(path.read_text())
    expired = expired_copy(state["session"]["accessJwt"])
    path.write_text(json.dumps({**state, "session": {**state["session"], "accessJwt": expired}}))
    with caplog.at_level(logging.INFO):
        figures = load_project(story.schedule).connector(ACCOUNT).account_metrics()
    assert figures.followers == story.profile["followersCount"]
    messages = [record.getMessage() for record in caplog.records]
    assert "refreshed the session" in messages and "created a new session" not in messages
    assert saved_session(story.schedule) not in (expired, state["session"]["accessJwt"])


# -- collecting ------------------------------------------------------------------


def latest_snapshot(story: Story, content: str) -> MetricSnapshot:
    publication_id = story.publication(content).id
    with Session(story.store().engine) as session:
        rows = session.exec(
            select(MetricSnapshot)
            .where(MetricSnapshot.publication_id == publication_id)
            .order_by(col(MetricSnapshot.collected_at).desc())
        ).all()
    assert rows, f"no metrics collected for {content}"
    return rows[0]


def figures(snapshot: MetricSnapshot) -> dict[str, int | None]:
    return {
        "likes": snapshot.likes,
        "reposts": snapshot.reposts,
        "replies": snapshot.replies,
        "quotes": snapshot.quotes,
    }


def test_collected_reactions_equal_the_appview_counts(story: Story) -> None:
    uri = story.publication("launch").remote_id
    view = story.appview("app.bsky.feed.getPosts", uris=[uri])["posts"][0]
    expected = {
        "likes": view["likeCount"],
        "reposts": view["repostCount"],
        "replies": view["replyCount"],
        "quotes": view["quoteCount"],
    }
    assert expected == {"likes": 2, "reposts": 1, "replies": 1, "quotes": 1}
    assert figures(latest_snapshot(story, "launch")) == expected


def test_a_threads_reactions_sum_its_parts_without_counting_its_own_parts(story: Story) -> None:
    parts = story.publication("story").thread_ids or []
    views = story.appview("app.bsky.feed.getPosts", uris=parts)["posts"]
    thread = story.appview("app.bsky.feed.getPostThread", uri=parts[0], depth=10)["thread"]
    others = [post for post in _thread_posts(thread) if post["author"]["did"] != story.owner.did]
    expected = {
        "likes": sum(v["likeCount"] for v in views),
        "reposts": sum(v["repostCount"] for v in views),
        "replies": len(others),
        "quotes": sum(v["quoteCount"] for v in views),
    }
    assert expected == {"likes": 1, "reposts": 0, "replies": 1, "quotes": 0}
    assert figures(latest_snapshot(story, "story")) == expected


def _thread_posts(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for reply in node.get("replies", []):
        yield reply["post"]
        yield from _thread_posts(reply)


def test_account_figures_equal_the_profile(story: Story) -> None:
    profile = story.profile
    with Session(story.store().engine) as session:
        snapshot = session.exec(
            select(AccountSnapshot).order_by(col(AccountSnapshot.collected_at).desc())
        ).first()
    assert snapshot is not None
    assert (snapshot.followers, snapshot.following, snapshot.posts) == (
        profile["followersCount"],
        profile["followsCount"],
        profile["postsCount"],
    )


def follower_events(story: Story, kind: str) -> list[str]:
    with Session(story.store().engine) as session:
        events = session.exec(select(FollowerEvent).where(FollowerEvent.account == ACCOUNT)).all()
    return sorted(event.follower_id for event in events if event.kind == kind)


def test_stored_followers_equal_the_appview_list(story: Story) -> None:
    listed = story.appview("app.bsky.graph.getFollowers", actor=story.owner.did)["followers"]
    with Session(story.store().engine) as session:
        stored = session.exec(select(Follower).where(Follower.account == ACCOUNT)).all()
    assert {f.follower_id for f in stored} == {f["did"] for f in listed} == {story.member.did}


def test_first_two_followers_are_two_joins(story: Story) -> None:
    assert follower_events(story, "join") == sorted([story.member.did, story.friend.did])
    assert [r.accounts[0].joins for r in story.rounds] == [0, 2, 0]


def test_an_unfollow_is_one_leave(story: Story) -> None:
    assert follower_events(story, "leave") == [story.friend.did]
    assert [r.accounts[0].leaves for r in story.rounds] == [0, 0, 1]


def test_the_report_says_joins_two_leaves_one(story: Story) -> None:
    until = (story.last_round_at + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    report = cli_run(
        story.schedule, "report", "--since", "30d", "--until", until, "--format", "json"
    )
    (account,) = report["accounts"]
    assert (account["followers_end"], account["joins"], account["leaves"]) == (1, 2, 1)


def test_inbox_holds_only_members_mentions_replies_and_quotes(story: Story) -> None:
    with Session(story.store().engine) as session:
        items = session.exec(select(Interaction).where(Interaction.account == ACCOUNT)).all()
    got = sorted((item.kind, item.remote_id, item.author_id) for item in items)
    posts, member, friend = story.member_posts, story.member.did, story.friend.did
    assert got == sorted(
        [
            ("reply", posts["reply"]["uri"], member),
            ("quote", posts["quote"]["uri"], member),
            ("reply", posts["part-reply"]["uri"], friend),
            ("mention", posts["mention"]["uri"], member),
        ]
    )


def test_collect_rounds_report_no_errors(story: Story) -> None:
    errors = [outcome.error for report in story.rounds for outcome in report.accounts]
    assert errors == [None, None, None]


def test_inbox_items_point_at_the_publication_they_answer(story: Story) -> None:
    launch, thread = story.publication("launch"), story.publication("story")
    with Session(story.store().engine) as session:
        items = session.exec(select(Interaction).where(Interaction.account == ACCOUNT)).all()
    answered = {item.remote_id: (item.in_reply_to, item.publication_id) for item in items}
    posts = story.member_posts
    assert answered[posts["reply"]["uri"]] == (launch.remote_id, launch.id)
    assert answered[posts["quote"]["uri"]] == (launch.remote_id, launch.id)
    assert answered[posts["part-reply"]["uri"]] == ((thread.thread_ids or [])[-1], thread.id)
    assert answered[posts["mention"]["uri"]] == (None, None)
