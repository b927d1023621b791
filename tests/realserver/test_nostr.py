"""The Nostr connector against two real relays (nostr-relay, SQLite) on 127.0.0.1.

crosspost publishes (through the connector, and once through the real CLI), a member
with a key of its own reacts, reposts, replies, quotes and follows, and each test
checks one promise against what the relays themselves hold.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from coincurve import PrivateKey

from connectors.base import RenderedPost, Transient
from connectors.http import Kind
from connectors.nostr import NostrConnector
from connectors.nostr.events import sign_event
from crosspost.cli import cli
from tests.realserver.conftest import free_ports
from tests.realserver.nostr import Member, Relay, install_relay, query, start_relay

pytestmark = pytest.mark.realserver


@pytest.fixture(scope="module")
def relays(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Relay]]:
    """Two relays, each with its own SQLite file, for the whole module."""
    venv = install_relay()
    work = tmp_path_factory.mktemp("nostr-relays")
    started: list[Relay] = []
    try:
        for name in ("a", "b"):
            started.append(start_relay(venv, work, name))
        yield started
    finally:
        for relay in started:
            relay.stop()


@pytest.fixture
def secret() -> str:
    return PrivateKey().secret.hex()


def connector(secret: str, urls: list[str], **settings: object) -> NostrConnector:
    values = {"secret_key": secret, "relays": tuple(urls), **settings}
    return NostrConnector("nostr", NostrConnector.Settings.model_validate(values))


def urls(relays: list[Relay]) -> list[str]:
    return [relay.url for relay in relays]


def thread(due: datetime) -> RenderedPost:
    parts = ('Repair café on Friday: bring "anything" broken 🔧', "Second part: tea is on us.")
    return RenderedPost(parts=parts, content_id="cafe", scheduled_at=due)


def due() -> datetime:
    return (datetime.now(UTC) - timedelta(minutes=2)).replace(microsecond=0)


def test_a_thread_reaches_both_relays_with_nip10_tags(relays: list[Relay], secret: str) -> None:
    nostr = connector(secret, urls(relays))
    published = nostr.publish(thread(due()), "key-thread")
    root, second = published.thread_ids
    assert published.remote_id == root
    assert set(published.extra["relays"].values()) == {"accepted"}
    for relay in relays:
        held = {e["id"]: e for e in query(relay.url, {"ids": [root, second]})}
        assert set(held) == {root, second}
        assert held[root]["content"].startswith("Repair café")
        reply_tags = held[second]["tags"]
        assert ["e", root, relays[0].url, "root", nostr.keys.pubkey] in reply_tags
        assert ["p", nostr.keys.pubkey] in reply_tags
        assert held[second]["created_at"] == held[root]["created_at"] + 1


def test_a_resend_is_the_same_event_and_relays_say_duplicate(
    relays: list[Relay], secret: str
) -> None:
    nostr = connector(secret, urls(relays))
    post = thread(due())
    first = nostr.publish(post, "key-resend")
    again = connector(secret, urls(relays)).publish(post, "key-resend")
    assert again.remote_id == first.remote_id
    assert again.thread_ids == first.thread_ids
    assert set(again.extra["relays"].values()) == {"duplicate"}
    mine = query(relays[0].url, {"authors": [nostr.keys.pubkey]})
    assert len(mine) == 2  # two parts, once each


def test_what_a_member_does_is_counted_once_across_relays(relays: list[Relay], secret: str) -> None:
    nostr = connector(secret, urls(relays))
    published = nostr.publish(thread(due()), "key-counts")
    root = published.remote_id
    me = nostr.keys.pubkey
    member, friend = Member(), Member()
    both, only_b = urls(relays), [relays[1].url]
    member.send(both, 7, "+", [["e", root], ["p", me]])  # on both relays: counted once
    friend.send(only_b, 7, "🔥", [["e", root], ["p", me]])  # only on relay b
    friend.send(only_b, 7, "-", [["e", root], ["p", me]])  # a dislike is not a like
    member.send(both, 6, "", [["e", root, relays[0].url], ["p", me]])
    reply = member.send(both, 1, "Count me in!", [["e", root, "", "root", me], ["p", me]])
    member.send(only_b, 1, "Look at this", [["q", root], ["p", me]])

    metrics = nostr.fetch_metrics([root, "0" * 64])
    assert set(metrics) == {root}  # an id no relay has is left out
    got = metrics[root]
    # our own second part replies to the root too, and is not counted
    assert (got.likes, got.reposts, got.replies, got.quotes) == (2, 1, 1, 1)
    assert got.raw["dislikes"] == 1

    page = nostr.fetch_inbox(None)
    by_id = {item.remote_id: item for item in page.items}
    assert by_id[reply].kind == "reply" and by_id[reply].in_reply_to == root
    assert by_id[reply].author_id == member.pubkey
    assert {item.kind for item in page.items} == {"reply", "quote"}
    assert page.cursor is not None
    again = nostr.fetch_inbox(page.cursor)
    assert again.cursor == page.cursor


def test_followers_are_the_newest_contact_lists_that_name_us(
    relays: list[Relay], secret: str
) -> None:
    nostr = connector(secret, urls(relays))
    me = nostr.keys.pubkey
    member, leaver = Member(), Member()
    member.send(urls(relays), 3, "", [["p", me]])
    leaver.send(urls(relays), 3, "", [["p", me], ["p", member.pubkey]])
    follows = [["p", member.pubkey], ["p", leaver.pubkey]]
    own_list = sign_event(nostr.keys, int(datetime.now(UTC).timestamp()), 3, follows, "")
    nostr.pool.publish(own_list, Kind.HARMLESS_WRITE)
    assert nostr.account_metrics().followers == 2
    assert nostr.account_metrics().following == 2
    # the leaver replaces its list on relay a only; relay b still has the old one
    # a second later: within one second NIP-01 keeps the lowest id, which may be the old list
    later = int(datetime.now(UTC).timestamp()) + 1
    leaver.send([relays[0].url], 3, "", [["p", member.pubkey]], created=later)
    followers = nostr.followers(100)
    assert [f.id for f in followers] == [member.pubkey]
    assert followers[0].handle.startswith("npub1")
    assert nostr.account_metrics().followers == 1


def test_one_relay_down_is_enough_only_when_one_relay_is_needed(
    relays: list[Relay], secret: str
) -> None:
    (dead,) = free_ports(1)
    down = [relays[0].url, f"ws://127.0.0.1:{dead}"]
    post = RenderedPost(parts=("Open doors at six.",), content_id="doors", scheduled_at=due())
    with pytest.raises(Transient) as caught:
        connector(secret, down, min_relays=2).publish(post, "key-down")
    assert "1 of 2 relays took it, 2 needed" in str(caught.value)
    published = connector(secret, down, min_relays=1).publish(post, "key-down")
    report = published.extra["relays"]
    # the first try had already carried it to relay a: the same event, again
    assert report[relays[0].url] == "duplicate"
    assert report[down[1]].startswith("failed: ")
    found = connector(secret, down).find_recent("key-down", "Open doors at six.")
    assert found is not None and found.remote_id == published.remote_id
    assert connector(secret, down, min_relays=2).find_recent("key-down", post.text) is None


def test_an_article_is_long_form_and_can_be_deleted(relays: list[Relay], secret: str) -> None:
    nostr = connector(secret, urls(relays), long_form=True)
    body = "# Why we repair\n\n" + "We fix things together. " * 400
    post = RenderedPost(
        parts=(body,),
        content_id="why-repair",
        title="Why we repair",
        options={"summary": "On fixing things"},
        scheduled_at=due(),
    )
    published = nostr.publish(post, "key-article")
    (held,) = query(relays[1].url, {"ids": [published.remote_id]})
    assert held["kind"] == 30023
    assert ["d", "why-repair"] in held["tags"] and ["title", "Why we repair"] in held["tags"]
    assert ["summary", "On fixing things"] in held["tags"]
    assert held["content"] == body
    nostr.delete(published.remote_id, published.extra)
    deletions = query(relays[0].url, {"kinds": [5], "authors": [nostr.keys.pubkey]})
    assert deletions and ["e", published.remote_id] in deletions[0]["tags"]


def test_the_cli_publishes_once_and_a_rerun_sends_nothing_new(
    relays: list[Relay], secret: str, tmp_path: Path
) -> None:
    (tmp_path / "content").mkdir()
    (tmp_path / ".env").write_text(f"NOSTR_NSEC={secret}\n", encoding="utf-8")
    relay_list = "\n".join(f"      - {url}" for url in urls(relays))
    (tmp_path / "schedule.yaml").write_text(
        "timezone: UTC\ncontent_dir: content\naccounts:\n  nostr:\n    connector: nostr\n"
        "    secret_key: ${NOSTR_NSEC}\n    relays:\n" + relay_list + "\nposts: []\n",
        encoding="utf-8",
    )
    (tmp_path / "content" / "hello.md").write_text(
        textwrap.dedent("---\ntitle: Hello\n---\nHello from crosspost on Nostr.\n"),
        encoding="utf-8",
    )
    database = f"sqlite:///{tmp_path / 'crosspost.db'}"
    args = ["-s", str(tmp_path / "schedule.yaml"), "--database", database]
    run = CliRunner().invoke(cli, [*args, "publish", "content/hello.md", "--to", "nostr", "--json"])
    assert run.exit_code == 0, run.output
    assert secret not in run.output
    publications = json.loads(run.stdout)["publications"]
    assert [p["status"] for p in publications] == ["published"]
    assert publications[0]["url"].startswith("nostr:note1")
    pubkey = connector(secret, urls(relays)).keys.pubkey
    assert len(query(relays[0].url, {"authors": [pubkey]})) == 1
    rerun = CliRunner().invoke(cli, [*args, "publish", "content/hello.md", "--to", "nostr"])
    assert rerun.exit_code == 0, rerun.output
    assert "already published" in rerun.output
    assert len(query(relays[0].url, {"authors": [pubkey]})) == 1
