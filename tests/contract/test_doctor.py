"""``diagnose()``: every connector proves its account works with reads only, names what the
credentials lack, and reads the rate-limit headroom from the platform's own headers.

Each platform is mocked twice: as a well set-up account, and with one thing missing.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
import responses

from connectors.base import Diagnosable, Diagnosis
from connectors.feed import FeedConnector
from connectors.folder import FolderConnector
from connectors.http import HttpClient, Kind
from tests.contract.cases import (
    bluesky,
    devto,
    discord,
    facebook,
    ghost,
    instagram,
    linkedin,
    mastodon,
    matrix,
    reddit,
    slack,
    telegram,
    threads,
    webhook,
    wordpress,
    x,
)
from tests.contract.harness import FIXTURES, ContractCase, fixture
from tests.contract.test_contract import CASES

Mock = Callable[[responses.RequestsMock, bool], None]
MASTODON_RATE = {
    "X-RateLimit-Limit": "300",
    "X-RateLimit-Remaining": "297",
    "X-RateLimit-Reset": "2026-11-21T08:20:00.000000Z",
}


def _mastodon(rsps: responses.RequestsMock, broken: bool) -> None:
    host = mastodon.HOST
    app = fixture("mastodon", "app_credentials")
    if broken:  # a token made with write:statuses alone
        app = {**app, "scopes": ["read:accounts", "write:statuses"]}
    rsps.get(f"{host}/api/v2/instance", json=fixture("mastodon", "instance"))
    rsps.get(
        f"{host}/api/v1/accounts/verify_credentials",
        json=fixture("mastodon", "account"),
        headers=MASTODON_RATE,
    )
    rsps.get(f"{host}/api/v1/apps/verify_credentials", json=app)


def _bluesky(rsps: responses.RequestsMock, broken: bool) -> None:
    session = fixture("bluesky", "get_session")
    if broken:
        session = {**session, "active": False, "status": "takendown"}
    pds = bluesky.PDS
    rsps.post(f"{pds}/com.atproto.server.createSession", json=fixture("bluesky", "create_session"))
    headers = {
        "RateLimit-Limit": "3000",
        "RateLimit-Remaining": "2987",
        "RateLimit-Reset": "1795690800",
    }
    rsps.get(f"{pds}/com.atproto.server.getSession", json=session, headers=headers)


def _x(rsps: responses.RequestsMock, broken: bool) -> None:
    token = fixture("x", "token")
    if broken:
        token = {**token, "scope": "tweet.read users.read offline.access"}
    rsps.post(x.TOKEN_URL, json=token)
    headers = {
        "x-rate-limit-limit": "75",
        "x-rate-limit-remaining": "74",
        "x-rate-limit-reset": "1795690800",
    }
    rsps.get(f"{x.API}/2/users/me", json=fixture("x", "users_me"), headers=headers)


def _discord(rsps: responses.RequestsMock, broken: bool) -> None:
    api, guild = discord.API, discord.GUILD
    channel = copy.deepcopy(fixture("discord", "channel"))
    if broken:  # the bot's role no longer allows attaching files
        channel["permission_overwrites"][1]["allow"] = str((1 << 11) | (1 << 14))
    headers = {
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "4",
        "X-RateLimit-Reset": "1795690800.5",
    }
    rsps.get(f"{api}/users/@me", json=fixture("discord", "user_me"))
    rsps.get(f"{api}/channels/{discord.CHANNEL}", json=channel)
    rsps.get(
        f"{api}/guilds/{guild}/members/1200000000000000001", json=fixture("discord", "guild_member")
    )
    rsps.get(f"{api}/guilds/{guild}/roles", json=fixture("discord", "guild_roles"))
    rsps.get(f"{api}/applications/@me", json=fixture("discord", "application"), headers=headers)


def _telegram(rsps: responses.RequestsMock, broken: bool) -> None:
    member = copy.deepcopy(fixture("telegram", "get_chat_member_admin"))
    if broken:
        member["result"]["can_post_messages"] = False
    for method, name in (
        ("getMe", "get_me"),
        ("getChat", "get_chat"),
        ("getWebhookInfo", "get_webhook_info"),
    ):
        rsps.get(f"{telegram.API}/{method}", json=fixture("telegram", name))
    rsps.get(f"{telegram.API}/getChatMember", json=member)


def _slack(rsps: responses.RequestsMock, broken: bool) -> None:
    scopes = "chat:write,files:write,reactions:read,channels:read,channels:history"
    if broken:
        scopes = "chat:write,reactions:read,channels:read,channels:history"
    rsps.get(
        f"{slack.API}/auth.test",
        json=fixture("slack", "auth.test"),
        headers={"x-oauth-scopes": scopes},
    )
    rsps.get(f"{slack.API}/conversations.info", json=fixture("slack", "conversations.info"))


def _linkedin(rsps: responses.RequestsMock, broken: bool) -> None:
    rsps.get(f"{linkedin.API}/posts", json=fixture("linkedin", "posts_by_author"))
    status = 403 if broken else 200
    body = fixture("linkedin", "error_403") if broken else fixture("linkedin", "network_sizes")
    rsps.get(f"{linkedin.API}/networkSizes/{linkedin.ORG_ENCODED}", json=body, status=status)


def _matrix(rsps: responses.RequestsMock, broken: bool) -> None:
    levels = fixture("matrix", "power_levels")
    if broken:  # an announcement room: only moderators may speak
        levels = {**levels, "events_default": 50}
    rsps.get(f"{matrix.HS}/_matrix/client/v3/account/whoami", json=fixture("matrix", "whoami"))
    member = f"{matrix.ROOM_PATH}/state/m.room.member/%40town-bot%3Aexample.org"
    rsps.get(member, json=fixture("matrix", "member_state"))
    rsps.get(f"{matrix.ROOM_PATH}/state/m.room.power_levels", json=levels)


def _reddit(rsps: responses.RequestsMock, broken: bool) -> None:
    about = copy.deepcopy(fixture("reddit", "about"))
    if broken:  # the moderators banned the bot
        about["data"]["user_is_banned"] = True
    budget = {"X-Ratelimit-Remaining": "597.0", "X-Ratelimit-Reset": "240", "X-Ratelimit-Used": "3"}
    rsps.post(reddit.TOKEN_URL, json=fixture("reddit", "access_token"))
    rsps.get(f"{reddit.API}/api/v1/me", json=fixture("reddit", "me"))
    rsps.get(f"{reddit.API}/r/pythonclub/about", json=about, headers=budget)


def _threads(rsps: responses.RequestsMock, broken: bool) -> None:
    api, user = threads.API, threads.USER
    rsps.get(f"{api}/me", json=fixture("threads", "me"))
    rsps.get(f"{api}/{user}/threads_publishing_limit", json=fixture("threads", "publishing_limit"))
    if broken:  # a token made without threads_manage_insights
        error = fixture("graph", "error_permission")
        rsps.get(f"{api}/{user}/threads_insights", json=error, status=403)
    else:
        rsps.get(f"{api}/{user}/threads_insights", json=fixture("threads", "followers"))


def _instagram(rsps: responses.RequestsMock, broken: bool) -> None:
    api, user = instagram.API, instagram.IG_USER
    usage = {
        user: [
            {
                "type": "instagram",
                "call_count": 12,
                "total_cputime": 4,
                "total_time": 6,
                "estimated_time_to_regain_access": 0,
            }
        ]
    }
    headers = {"X-Business-Use-Case-Usage": json.dumps(usage)}
    rsps.get(f"{api}/{user}", json=fixture("instagram", "account_username"), headers=headers)
    limit = f"{api}/{user}/content_publishing_limit"
    if broken:  # a token without instagram_content_publish
        rsps.get(limit, json=fixture("graph", "error_permission"), status=403)
    else:
        rsps.get(limit, json=fixture("instagram", "publishing_limit"))


def _facebook(rsps: responses.RequestsMock, broken: bool) -> None:
    usage = {"X-App-Usage": json.dumps({"call_count": 28, "total_time": 25, "total_cputime": 25})}
    page = fixture("facebook", "page_identity")
    rsps.get(f"{facebook.API}/{facebook.PAGE}", json=page, headers=usage)
    permissions = copy.deepcopy(fixture("facebook", "me_permissions"))
    if broken:  # the admin unticked pages_manage_posts when granting
        permissions["data"][1]["status"] = "declined"
    rsps.get(f"{facebook.API}/me/permissions", json=permissions)


def _devto(rsps: responses.RequestsMock, broken: bool) -> None:
    if broken:  # the key was revoked
        body, status = fixture("devto", "error_unauthorized"), 401
    else:
        body, status = fixture("devto", "users_me"), 200
    rsps.get(f"{devto.HOST}/api/users/me", json=body, status=status)


def _ghost(rsps: responses.RequestsMock, broken: bool) -> None:
    if broken:  # a key the site knows but does not let in
        body, status = fixture("ghost", "error_no_permission"), 403
    else:
        body, status = fixture("ghost", "site"), 200
    rsps.get(f"{ghost.ADMIN}/site/", json=body, status=status)


def _wordpress(rsps: responses.RequestsMock, broken: bool) -> None:
    user = copy.deepcopy(fixture("wordpress", "users_me_edit"))
    if broken:  # a Contributor: may write drafts, neither publish nor upload
        user["roles"] = ["contributor"]
        del user["capabilities"]["upload_files"]
        user["capabilities"]["publish_posts"] = False
    rsps.get(f"{wordpress.API}/users/me", json=user)


def _nothing(rsps: responses.RequestsMock, broken: bool) -> None:
    """A webhook is asked nothing: its check sends no request."""


@dataclass(frozen=True)
class Checkup:
    case: ContractCase
    mock: Mock
    identity: str
    #: What the broken set-up must name.
    named: str
    #: The check may first log in or renew a token (a harmless write).
    logs_in: bool = False
    headroom: int | None = None
    #: Settings of the broken set-up, for a connector that asks the platform nothing.
    broken_settings: Mapping[str, object] | None = None


CHECKUPS = {
    "mastodon": Checkup(
        mastodon.CASE, _mastodon, "@rivertown@social.example", "read:notifications", headroom=297
    ),
    "bluesky": Checkup(bluesky.CASE, _bluesky, "@crosspost.bsky.social", "takendown", True, 2987),
    "x": Checkup(x.CASE, _x, "@crossposttest", "tweet.write", True, 74),
    "discord": Checkup(discord.CASE, _discord, "bot crosspost-bot", "Attach Files", headroom=4),
    "telegram": Checkup(telegram.CASE, _telegram, "@crosspost_news_bot", "can_post_messages"),
    "slack": Checkup(slack.CASE, _slack, "bot crosspost in Crosspost Club", "files:write"),
    "linkedin": Checkup(linkedin.CASE, _linkedin, linkedin.ORG, "follower count"),
    "matrix": Checkup(
        matrix.CASE, _matrix, "@town-bot:example.org", "power level 0 is below the 50"
    ),
    "threads": Checkup(threads.CASE, _threads, "@rivertown_makers", "threads_manage_insights"),
    "instagram": Checkup(
        instagram.CASE, _instagram, "@rivertownmakers", "instagram_content_publish", headroom=88
    ),
    "facebook": Checkup(
        facebook.CASE, _facebook, "Page Rivertown Makerspace", "pages_manage_posts", headroom=72
    ),
    "reddit": Checkup(reddit.CASE, _reddit, "u/club_bot", "banned from r/pythonclub", True, 597),
    "devto": Checkup(devto.CASE, _devto, "@makerspace", "refuses the API key"),
    "ghost": Checkup(ghost.CASE, _ghost, "Makerspace Blog", "403"),
    "wordpress": Checkup(
        wordpress.CASE, _wordpress, "makerspace on blog.makerspace.example", "upload_files"
    ),
    "webhook": Checkup(
        webhook.CASE,
        _nothing,
        "POST https://hooks.example.org/…",
        "'titel' is undefined",
        broken_settings={
            "body_template": "broken.json.j2",
            "templates_dir": FIXTURES / "webhook" / "templates",
        },
    ),
}


@pytest.fixture
def kinds() -> Iterator[list[tuple[str, str, Kind]]]:
    calls: list[tuple[str, str, Kind]] = []

    def record(method: str, url: str, kind: Kind) -> None:
        calls.append((method, url, kind))

    HttpClient.observers.append(record)
    yield calls
    HttpClient.observers.remove(record)


def _diagnose(checkup: Checkup, broken: bool) -> Diagnosis:
    connector = checkup.case.connector()
    if broken and checkup.broken_settings is not None:
        cls = type(connector)
        values = {**checkup.case.settings(), **checkup.broken_settings}
        connector = cls("test", cls.Settings.model_validate(values))
    assert isinstance(connector, Diagnosable)
    with responses.RequestsMock() as rsps:  # every mocked call is made, no other
        checkup.mock(rsps, broken)
        return connector.diagnose()


@pytest.mark.parametrize("name", sorted(CHECKUPS))
def test_a_well_set_up_account_passes_with_reads_only(
    name: str, kinds: list[tuple[str, str, Kind]]
) -> None:
    checkup = CHECKUPS[name]
    diagnosis = _diagnose(checkup, broken=False)

    assert diagnosis.ok, diagnosis.problems
    assert diagnosis.identity == checkup.identity
    assert (diagnosis.rate.remaining if diagnosis.rate else None) == checkup.headroom
    writes = {kind for _m, _u, kind in kinds if kind is not Kind.READ}
    assert writes == ({Kind.HARMLESS_WRITE} if checkup.logs_in else set()), kinds
    assert all(method == "GET" for method, _u, kind in kinds if kind is Kind.READ)


@pytest.mark.parametrize("name", sorted(CHECKUPS))
def test_what_the_credentials_lack_is_named(name: str) -> None:
    checkup = CHECKUPS[name]
    diagnosis = _diagnose(checkup, broken=True)
    assert not diagnosis.ok
    assert any(checkup.named in problem for problem in diagnosis.problems), diagnosis.problems


def test_every_contract_connector_can_diagnose() -> None:
    assert {case.name for case in CASES} == set(CHECKUPS)
    assert all(isinstance(case.connector(), Diagnosable) for case in CASES)


def test_mastodon_scopes_read_and_write_stand_for_their_parts() -> None:
    diagnosis = _diagnose(CHECKUPS["mastodon"], broken=False)
    assert diagnosis.scopes == ("read", "write:media", "write:statuses")
    assert diagnosis.details["max characters"] == "500"


def test_discord_permissions_follow_roles_then_overwrites() -> None:
    from connectors.discord.doctor import channel_permissions

    guild, role, bot = "1", "2", "3"
    roles = [{"id": guild, "permissions": str(1 << 10)}, {"id": role, "permissions": str(1 << 11)}]
    deny_send = [{"id": guild, "allow": "0", "deny": str(1 << 11)}]
    assert channel_permissions(guild, [role], roles, [], bot) == (1 << 10) | (1 << 11)
    # the channel's @everyone overwrite applies on top of what the roles give on the server
    assert channel_permissions(guild, [role], roles, deny_send, bot) == 1 << 10
    admin = [{"id": guild, "permissions": str(1 << 3)}]
    assert channel_permissions(guild, [], admin, deny_send, bot) == ~0


def test_a_folder_or_feed_that_cannot_be_written_is_a_problem(tmp_path: Path) -> None:
    blocker = tmp_path / "taken"
    blocker.write_text("a file where a folder should be", encoding="utf-8")
    folder = FolderConnector("archive", FolderConnector.Settings(path=blocker / "posts"))
    assert "is not a folder" in folder.diagnose().problems[0]

    feed_file = tmp_path / "feed.xml"
    feed_file.write_text("<feed", encoding="utf-8")
    feed = FeedConnector("site", FeedConnector.Settings(path=feed_file))
    assert "not well-formed XML" in feed.diagnose().problems[0]

    fine = FolderConnector("archive", FolderConnector.Settings(path=tmp_path / "new" / "posts"))
    assert fine.diagnose().ok and not (tmp_path / "new").exists()  # nothing was created


def test_a_refused_token_raises_for_the_core_to_report() -> None:
    connector = mastodon.CASE.connector()
    assert isinstance(connector, Diagnosable)
    with responses.RequestsMock() as rsps:
        rsps.get(f"{mastodon.HOST}/api/v2/instance", json=fixture("mastodon", "instance"))
        rsps.get(
            f"{mastodon.HOST}/api/v1/accounts/verify_credentials",
            json=fixture("mastodon", "error_unauthorized"),
            status=401,
        )
        with pytest.raises(Exception) as caught:
            connector.diagnose()
    assert type(caught.value).__name__ == "AuthError"
