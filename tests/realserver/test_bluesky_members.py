"""Answering members on Bluesky's own test network (PLC, PDS, AppView on 127.0.0.1).

One story per module: crosspost publishes through the CLI, a member replies in the
thread and mentions the account, the real collector brings both into the inbox,
and ``crosspost reply`` answers each from the CLI. Each test checks one promise
against what the PDS and the AppView themselves say; ``crosspost doctor`` checks the
account with reads only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from crosspost.cli import cli
from crosspost.collecting.metrics import MetricsCollector
from crosspost.loading.project import load_project
from crosspost.publishing.replies import answer_key
from crosspost.status import Status
from crosspost.store import Store
from crosspost.store.models import Interaction
from tests.realserver.atproto import User, xrpc
from tests.realserver.conftest import DevEnv

pytestmark = pytest.mark.realserver

ACCOUNT = "bsky"
#: What the account answers to each of the member's posts.
ANSWERS = {"reply": "Yes, kids are welcome!", "mention": "We do, ask at the desk."}


def write_project(base: Path, pds: str, owner: User) -> Path:
    (base / "content").mkdir(parents=True)
    (base / ".env").write_text(f"BSKY_APP_PASSWORD={owner.app_password}\n", encoding="utf-8")
    (base / "content" / "open.md").write_text(
        "---\ntitle: Open day\n---\nOpen day on Saturday, everyone is welcome.\n", encoding="utf-8"
    )
    schedule = base / "schedule.yaml"
    schedule.write_text(
        f"timezone: UTC\ncontent_dir: content\naccounts:\n  {ACCOUNT}:\n"
        f"    connector: bluesky\n    handle: {owner.handle}\n"
        f"    app_password: ${{BSKY_APP_PASSWORD}}\n    service: {pds}\nposts: []\n",
        encoding="utf-8",
    )
    return schedule


def run(schedule: Path, *args: str) -> tuple[int, Any]:
    database = f"sqlite:///{schedule.parent / 'crosspost.db'}"
    result = CliRunner().invoke(cli, ["-s", str(schedule), "--database", database, *args])
    try:
        return result.exit_code, json.loads(result.stdout)
    except ValueError:
        return result.exit_code, result.output


@dataclass
class Story:
    env: DevEnv
    schedule: Path
    owner: User
    member: User
    launch: dict[str, str] = field(default_factory=dict)
    asked: dict[str, dict[str, str]] = field(default_factory=dict)
    inbox: list[dict[str, Any]] = field(default_factory=list)
    answers: dict[str, list[tuple[int, Any]]] = field(default_factory=dict)
    posts_after_answers: int = 0
    posts_after_reruns: int = 0
    doctor: tuple[int, Any] = (0, None)

    def record(self, uri: str) -> dict[str, Any]:
        repo, collection, rkey = uri.removeprefix("at://").split("/")
        params = {"repo": repo, "collection": collection, "rkey": rkey}
        found = xrpc(self.env.pds, "GET", "com.atproto.repo.getRecord", params=params)
        value: dict[str, Any] = found["value"]
        return value

    def owner_posts(self) -> int:
        params = {"repo": self.owner.did, "collection": "app.bsky.feed.post", "limit": 100}
        found = xrpc(self.env.pds, "GET", "com.atproto.repo.listRecords", params=params)
        return len(found["records"])

    def store(self) -> Store:
        return Store(f"sqlite:///{self.schedule.parent / 'crosspost.db'}")

    def item_id(self, key: str) -> int:
        """The inbox id of the member's post ``key``, as ``crosspost inbox`` shows it."""
        store = self.store()
        with Session(store.engine) as session:
            found = session.exec(
                select(Interaction).where(Interaction.remote_id == self.asked[key]["uri"])
            ).one()
        store.close()
        assert found.id is not None
        return found.id

    def answer_uri(self, key: str) -> str:
        """The ``at://`` URI of the answer crosspost sent to ``key``."""
        store = self.store()
        row = store.find(f"reply:{self.item_id(key)}", answer_key(ANSWERS[key]), ACCOUNT)
        store.close()
        assert row is not None and row.remote_id is not None
        return row.remote_id

    def launch_uri(self) -> str:
        store = self.store()
        (row,) = [
            r for r in store.publications([Status.PUBLISHED]) if r.entry.startswith("publish:")
        ]
        store.close()
        assert row.remote_id is not None
        return row.remote_id


def collect(schedule: Path, at: datetime) -> None:
    store = Store(f"sqlite:///{schedule.parent / 'crosspost.db'}")
    MetricsCollector(store, load_project(schedule), clock=lambda: at).run_due()
    store.close()


def run_story(env: DevEnv, base: Path) -> Story:
    owner, member = User.sign_up(env.pds, "answerclub"), User.sign_up(env.pds, "carla")
    story = Story(env, write_project(base, env.pds, owner), owner, member)
    code, published = run(story.schedule, "publish", "content/open.md", "--to", ACCOUNT, "--json")
    assert code == 0, published
    env.sync()  # the AppView has indexed the post
    params = {"uris": [story.launch_uri()]}
    view = xrpc(env.appview, "GET", "app.bsky.feed.getPosts", params=params)["posts"][0]
    story.launch = {"uri": view["uri"], "cid": view["cid"]}
    story.asked = {
        "reply": member.reply("Can I bring my kids?", root=story.launch, parent=story.launch),
        "mention": member.mention(f"@{owner.handle} do you lend tools?", owner.handle, owner.did),
    }
    env.sync()
    collect(story.schedule, datetime.now(UTC) + timedelta(minutes=20))
    story.inbox = run(story.schedule, "inbox", "--json")[1]["items"]
    for key, text in ANSWERS.items():
        story.answers[key] = [run(story.schedule, "reply", str(story.item_id(key)), text, "--json")]
    story.posts_after_answers = story.owner_posts()
    for key, text in ANSWERS.items():
        story.answers[key].append(
            run(story.schedule, "reply", str(story.item_id(key)), text, "--json")
        )
    story.posts_after_reruns = story.owner_posts()
    env.sync()
    story.doctor = run(story.schedule, "doctor", "--json")
    return story


@pytest.fixture(scope="module")
def story(bluesky_devenv: DevEnv, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    yield run_story(bluesky_devenv, tmp_path_factory.mktemp("bluesky-members"))


def test_the_inbox_holds_the_members_reply_and_mention(story: Story) -> None:
    assert sorted(item["kind"] for item in story.inbox) == ["mention", "reply"]
    assert all(item["answered_at"] is None for item in story.inbox)  # read before answering


def test_an_answer_to_a_reply_names_the_thread_root_and_the_members_post(story: Story) -> None:
    (code, answer), _ = story.answers["reply"]
    assert code == 0 and answer["status"] == "published", answer
    reply = story.record(story.answer_uri("reply"))["reply"]
    assert reply["root"] == story.launch
    assert reply["parent"] == story.asked["reply"]


def test_an_answer_to_a_mention_starts_its_thread_at_the_mention(story: Story) -> None:
    (code, answer), _ = story.answers["mention"]
    assert code == 0 and answer["status"] == "published", answer
    reply = story.record(story.answer_uri("mention"))["reply"]
    assert reply["root"] == reply["parent"] == story.asked["mention"]


def test_the_appview_shows_the_answer_in_the_members_thread(story: Story) -> None:
    params = {"uri": story.asked["reply"]["uri"], "depth": 2}
    thread = xrpc(story.env.appview, "GET", "app.bsky.feed.getPostThread", params=params)["thread"]
    authors = [reply["post"]["author"]["did"] for reply in thread.get("replies", [])]
    assert authors == [story.owner.did]


def test_running_reply_again_sends_nothing(story: Story) -> None:
    assert story.posts_after_reruns == story.posts_after_answers == 3  # the post and two answers
    for key in ("reply", "mention"):
        code, again = story.answers[key][1]
        assert code == 0 and "already answered" in again["error"]


def test_answered_items_leave_the_unanswered_inbox_and_count_in_the_report(story: Story) -> None:
    assert run(story.schedule, "inbox", "--unanswered", "--json")[1]["items"] == []
    code, report = run(story.schedule, "report", "--since", "1d", "--format", "json")
    assert code == 0
    (figures,) = report["responses"]
    assert (figures["received"], figures["answered"], figures["questions"]) == (2, 2, 2)


def test_doctor_proves_the_account_with_reads_only(story: Story) -> None:
    code, checks = story.doctor
    assert code == 0, checks
    (check,) = checks["accounts"]
    assert (check["status"], check["identity"]) == ("ok", f"@{story.owner.handle}")
    assert "reply" in check["capabilities"]
