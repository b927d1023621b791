"""Answering an inbox item: each replying connector puts the platform's thread references
where the platform reads them, says what the request does, and sends one post.

The item of each platform is shaped as that connector's ``fetch_inbox`` stores it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import pytest
import responses

from connectors.base import Capability, InboxItem, Published, RenderedPost, Replier
from connectors.bluesky import rkey_for
from connectors.discord import DiscordConnector
from connectors.discord.constants import nonce_for
from connectors.http import HttpClient, Kind
from tests.contract.cases import bluesky, discord, facebook, mastodon, matrix, reddit, telegram, x
from tests.contract.harness import ContractCase, fixture
from tests.contract.test_contract import CASES, KEY

WHEN = datetime(2026, 11, 21, 8, 15, tzinfo=UTC)
ANSWER = RenderedPost(parts=("Yes, bring them along!",), content_id="crosspost-reply")
OWNER_ROOT = {
    "uri": "at://did:plc:w4xbfzo7kqfes5zb7r6qv3rw/app.bsky.feed.post/3kq5xhuyb2c2p",
    "cid": "bafyreihd5oc4fzvbdmhzuhoklqbbgmvnbbrqe2wpgqbcgmkecjsiy5yzfa",
}
MEMBER_POST = "at://did:plc:ada4mb3rexample7q2w3e4r5/app.bsky.feed.post/3lmemberreply"
MEMBER_CID = "bafyreiamemberreplycid000000000000000000000000000000000000"


def _item(remote_id: str, **raw: Any) -> InboxItem:
    return InboxItem(
        remote_id, "reply", "@ada", "5550001111", "Can I bring a friend?", None, WHEN, raw=raw
    )


def _form(request: Any) -> dict[str, str]:
    return dict(parse_qsl(request.body if isinstance(request.body, str) else request.body.decode()))


def _json(request: Any) -> Any:
    return json.loads(request.body)


@dataclass(frozen=True)
class Answer:
    """How one platform is answered: the item, the mocked answer, what the request must say."""

    case: ContractCase
    item: InboxItem
    url: str
    body: Any
    check: Callable[[Any], None]
    status: int = 200
    method: str = "POST"


def _check_mastodon(request: Any) -> None:
    form = _form(request)
    assert form["in_reply_to_id"] == "113498765432100009"
    assert form["status"] == "@ada Yes, bring them along!"  # Mastodon notifies mentions only
    assert request.headers["Idempotency-Key"] == KEY


def _check_bluesky(request: Any) -> None:
    body = _json(request)
    parent = {"uri": MEMBER_POST, "cid": MEMBER_CID}
    assert body["record"]["reply"] == {"root": OWNER_ROOT, "parent": parent}
    assert body["rkey"] == rkey_for(KEY)


def _check_x(request: Any) -> None:
    assert _json(request) == {
        "text": "Yes, bring them along!",
        "reply": {"in_reply_to_tweet_id": "1859000000000000001"},
    }


def _check_discord(request: Any) -> None:
    body = _json(request)
    assert body["message_reference"] == {
        "message_id": "1300000000000000007",
        "fail_if_not_exists": True,
    }
    assert body["allowed_mentions"] == {"parse": [], "replied_user": True}
    assert (body["nonce"], body["enforce_nonce"]) == (nonce_for(KEY), True)


def _check_matrix(request: Any) -> None:
    body = _json(request)
    assert body["body"] == ANSWER.text and body["msgtype"] == "m.text"
    assert body["m.relates_to"] == {
        "rel_type": "m.thread",  # the member wrote in a thread: the answer stays in it
        "event_id": matrix.EVENT,
        "is_falling_back": False,
        "m.in_reply_to": {"event_id": "$t1"},
    }
    assert body["m.mentions"] == {"user_ids": ["@grace:example.org"]}


def _check_telegram(request: Any) -> None:
    body = _json(request)
    # the member wrote in the channel's discussion group: the answer goes there
    assert body["chat_id"] == -1009876543210
    assert body["reply_parameters"] == {"message_id": 317}


def _check_reddit(request: Any) -> None:
    form = _form(request)
    assert form == {"api_type": "json", "thing_id": "t1_myngt77", "text": ANSWER.text}


def _check_facebook(request: Any) -> None:
    assert _form(request) == {"message": ANSWER.text}
    assert "access_token=" in request.url


FACEBOOK_COMMENT = "122174839201847563_1187255327411002"
ANSWERS = {
    "facebook": Answer(
        facebook.CASE,
        InboxItem(
            FACEBOOK_COMMENT,
            "comment",
            "Ada Okafor",
            "8127364501928374",
            "Can I bring two lamps?",
            f"https://www.facebook.com/{facebook.PAGE}/posts/122174839201847563"
            "?comment_id=1187255327411002",
            WHEN,
            in_reply_to=facebook.POST,
        ),
        f"{facebook.API}/{FACEBOOK_COMMENT}/comments",
        fixture("facebook", "comment_reply"),
        _check_facebook,
    ),
    "reddit": Answer(
        reddit.CASE,
        _item("t1_myngt77", type="post_reply", subreddit="pythonclub"),
        f"{reddit.API}/api/comment",
        fixture("reddit", "comment"),
        _check_reddit,
    ),
    "mastodon": Answer(
        mastodon.CASE,
        _item("113498765432100009", visibility="public"),
        mastodon.CASE.publish_url,
        fixture("mastodon", "status_reply"),
        _check_mastodon,
    ),
    "bluesky": Answer(
        bluesky.CASE,
        _item(MEMBER_POST, cid=MEMBER_CID, root=OWNER_ROOT),
        bluesky.CASE.publish_url,
        fixture("bluesky", "create_record"),
        _check_bluesky,
    ),
    "x": Answer(
        x.CASE,
        _item("1859000000000000001"),
        x.CASE.publish_url,
        fixture("x", "create_post"),
        _check_x,
        201,
    ),
    "discord": Answer(
        discord.CASE,
        _item(
            f"{discord.CHANNEL}:1300000000000000007",
            message_id="1300000000000000007",
            channel_id=discord.CHANNEL,
        ),
        discord.CASE.publish_url,
        fixture("discord", "message_bot"),
        _check_discord,
    ),
    "matrix": Answer(
        matrix.CASE,
        InboxItem(
            "$t1",
            "reply",
            "@grace:example.org",
            "@grace:example.org",
            "Can I bring a friend?",
            None,
            WHEN,
            in_reply_to=matrix.EVENT,
            raw={"msgtype": "m.text", "thread_root": matrix.EVENT},
        ),
        matrix.CASE.publish_url,
        fixture("matrix", "send"),
        _check_matrix,
        method="PUT",
    ),
    "telegram": Answer(
        telegram.CASE,
        _item("-1009876543210:317", chat_id=-1009876543210, message_id=317),
        telegram.CASE.publish_url,
        fixture("telegram", "send_message_group_reply"),
        _check_telegram,
    ),
}


@pytest.fixture
def kinds() -> Iterator[list[tuple[str, Kind]]]:
    calls: list[tuple[str, Kind]] = []

    def record(method: str, url: str, kind: Kind) -> None:
        calls.append((method, kind))

    HttpClient.observers.append(record)
    yield calls
    HttpClient.observers.remove(record)


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_an_answer_carries_the_platforms_thread_references(
    name: str, kinds: list[tuple[str, Kind]]
) -> None:
    answer = ANSWERS[name]
    connector = answer.case.connector()
    assert isinstance(connector, Replier) and Capability.REPLY in connector.capabilities
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        answer.case.mock_before_publish(rsps)
        rsps.add(answer.method, answer.url, json=answer.body, status=answer.status)
        post = connector.reply_post(answer.item, ANSWER)
        published = connector.reply(answer.item, post, KEY)
        sent = [c.request for c in rsps.calls if c.request.url.split("?")[0] == answer.url]
    assert len(sent) == 1
    answer.check(sent[0])
    assert isinstance(published, Published) and published.thread_ids == (published.remote_id,)
    keyed = Capability.IDEMPOTENCY_KEY in connector.capabilities
    writes = [kind for _method, kind in kinds if kind.may_publish]
    assert writes == [Kind.KEYED_WRITE if keyed else Kind.PUBLISHING_WRITE]


def test_every_connector_that_declares_replies_is_tested_here() -> None:
    declaring = {c.name for c in CASES if Capability.REPLY in c.connector().capabilities}
    assert declaring == set(ANSWERS)


def test_an_answer_over_the_limit_is_refused_before_anything_is_sent() -> None:
    for answer in ANSWERS.values():
        connector = answer.case.connector()
        assert isinstance(connector, Replier)
        too_long = RenderedPost(parts=(answer.case.too_long_text(),))
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            answer.case.mock_before_publish(rsps)
            with pytest.raises(Exception, match="long") as caught:
                connector.reply(answer.item, too_long, KEY)
            assert not [c for c in rsps.calls if c.request.url.split("?")[0] == answer.url]
        assert type(caught.value).__name__ == "Rejected", answer.case.name


def test_a_bluesky_item_collected_without_its_root_is_read_back_first() -> None:
    case = bluesky.CASE
    connector = case.connector()
    assert isinstance(connector, Replier)
    old = _item(MEMBER_POST, cid=MEMBER_CID)  # collected before the root was kept
    with responses.RequestsMock() as rsps:
        case.mock_before_publish(rsps)
        rsps.get(
            f"{bluesky.PDS}/app.bsky.feed.getPosts",
            json=fixture("bluesky", "get_posts_member_reply"),
        )
        rsps.post(case.publish_url, json=fixture("bluesky", "create_record"))
        connector.reply(old, ANSWER, KEY)
        body = _json(rsps.calls[-1].request)
    assert body["record"]["reply"]["root"] == OWNER_ROOT


def test_a_bluesky_mention_starts_its_own_thread() -> None:
    case = bluesky.CASE
    connector = case.connector()
    assert isinstance(connector, Replier)
    mention = _item(MEMBER_POST, cid=MEMBER_CID, root=None)
    with responses.RequestsMock() as rsps:
        case.mock_before_publish(rsps)
        rsps.post(case.publish_url, json=fixture("bluesky", "create_record"))
        connector.reply(mention, ANSWER, KEY)
        reply = _json(rsps.calls[-1].request)["record"]["reply"]
    assert reply["root"] == reply["parent"] == {"uri": MEMBER_POST, "cid": MEMBER_CID}


@pytest.mark.parametrize(
    ("theirs", "sent"),
    [("public", None), ("unlisted", "unlisted"), ("private", "private"), ("direct", "direct")],
)
def test_a_mastodon_answer_is_never_more_public_than_the_status(
    theirs: str, sent: str | None
) -> None:
    connector = mastodon.CASE.connector()
    assert isinstance(connector, Replier)
    post = connector.reply_post(_item("1", visibility=theirs), ANSWER)
    assert post.options.get("visibility") == sent


def test_a_mastodon_answer_that_names_the_author_is_not_addressed_twice() -> None:
    connector = mastodon.CASE.connector()
    assert isinstance(connector, Replier)
    post = RenderedPost(parts=("Thanks @Ada, see you!",))
    assert connector.reply_post(_item("1"), post).text == "Thanks @Ada, see you!"


def test_a_discord_webhook_account_cannot_answer() -> None:
    hook = "https://discord.com/api/webhooks/123456789012345678/" + "t" * 68
    connector = DiscordConnector("hook", DiscordConnector.Settings(webhook_url=hook))
    assert Capability.REPLY not in connector.capabilities


def test_a_facebook_answer_links_under_the_members_comment() -> None:
    answer = ANSWERS["facebook"]
    connector = answer.case.connector()
    assert isinstance(connector, Replier)
    with responses.RequestsMock() as rsps:
        rsps.post(answer.url, json=answer.body)
        published = connector.reply(answer.item, ANSWER, KEY)
    assert published.remote_id == "122174839201847563_1187291736450912"
    assert published.url == f"{answer.item.url}&reply_comment_id=1187291736450912"
