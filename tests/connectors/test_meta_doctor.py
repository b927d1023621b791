"""``diagnose()`` of the Meta connectors beyond the contract's two set-ups: a Page token that
lists no permissions, a full quota, another profile's token, Instagram Login names, usage
headers, and a refused token."""

from __future__ import annotations

import json

import pytest
import responses

from connectors.base import AuthError, Rejected
from connectors.facebook import FacebookConnector
from connectors.graph.doctor import usage_headroom
from connectors.instagram import InstagramConnector
from connectors.threads import ThreadsConnector
from tests.contract.cases import facebook, instagram, threads
from tests.contract.harness import fixture


def test_a_page_token_without_a_permissions_edge_is_probed_and_says_what_it_cannot_see() -> None:
    connector = facebook.CASE.connector()
    assert isinstance(connector, FacebookConnector)
    api, page = facebook.API, facebook.PAGE
    with responses.RequestsMock() as rsps:
        rsps.get(f"{api}/{page}", json=fixture("facebook", "page_identity"))
        rsps.get(
            f"{api}/me/permissions", json=fixture("graph", "error_nonexisting_field"), status=400
        )
        rsps.get(
            f"{api}/{page}/published_posts", json=fixture("graph", "error_permission"), status=403
        )
        diagnosis = connector.diagnose()
    assert diagnosis.scopes is None
    assert len(diagnosis.problems) == 1
    assert "pages_read_user_content" in diagnosis.problems[0]
    assert "pages_manage_posts" in diagnosis.notes[0]
    assert diagnosis.details["followers"] == "2684"


def test_a_page_read_without_pages_read_engagement_still_names_the_page() -> None:
    connector = facebook.CASE.connector()
    assert isinstance(connector, FacebookConnector)
    api, page = facebook.API, facebook.PAGE
    permissions = fixture("facebook", "me_permissions")
    permissions = {"data": [p for p in permissions["data"] if "engagement" not in p["permission"]]}
    with responses.RequestsMock() as rsps:
        rsps.get(f"{api}/{page}", json=fixture("graph", "error_permission"), status=403)
        rsps.get(f"{api}/{page}", json={"name": "Rivertown Makerspace", "id": page})
        rsps.get(f"{api}/me/permissions", json=permissions)
        diagnosis = connector.diagnose()
    assert diagnosis.identity == "Page Rivertown Makerspace"
    named = [p for p in diagnosis.problems if "pages_read_engagement" in p]
    assert len(named) == 1  # the refused read and the list say it once
    assert any("pages_manage_engagement" in note for note in diagnosis.notes)


def test_an_expired_token_raises_for_the_core_to_report() -> None:
    connector = facebook.CASE.connector()
    with responses.RequestsMock() as rsps:
        error = fixture("graph", "error_token_expired")
        rsps.get(f"{facebook.API}/{facebook.PAGE}", json=error, status=400)
        with pytest.raises(AuthError, match="create a new long-lived token"):
            connector.diagnose()  # type: ignore[attr-defined]


def test_a_full_threads_quota_and_another_profiles_token_are_problems() -> None:
    settings = {**threads.CASE.settings(), "user_id": "11111111111111111"}
    connector = ThreadsConnector("test", ThreadsConnector.Settings.model_validate(settings))
    connector.state = threads.fresh_token_state(connector)
    full = {"data": [{"quota_usage": 250, "config": {"quota_total": 250, "quota_duration": 86400}}]}
    api = threads.API
    with responses.RequestsMock() as rsps:
        rsps.get(f"{api}/me", json=fixture("threads", "me"))
        rsps.get(f"{api}/11111111111111111/threads_publishing_limit", json=full)
        rsps.get(f"{api}/11111111111111111/threads_insights", json=fixture("threads", "followers"))
        diagnosis = connector.diagnose()
    assert diagnosis.problems == (
        f"the token belongs to Threads user {threads.USER}, not user_id 11111111111111111",
        "the account has published 250 of its 250 posts a day",
    )
    assert diagnosis.details["published in the last 24 hours"] == "250 of 250 posts"


def test_an_instagram_login_token_is_told_the_business_permission() -> None:
    settings = {**instagram.CASE.settings(), "login": "instagram"}
    connector = InstagramConnector("test", InstagramConnector.Settings.model_validate(settings))
    api = f"https://graph.instagram.com/v23.0/{instagram.IG_USER}"
    with responses.RequestsMock() as rsps:
        rsps.get(api, json=fixture("instagram", "account_username"))
        error = fixture("graph", "error_permission")
        rsps.get(f"{api}/content_publishing_limit", json=error, status=403)
        diagnosis = connector.diagnose()
    assert "instagram_business_content_publish" in diagnosis.problems[0]
    assert diagnosis.rate is None  # no usage header was sent


def test_a_throttled_check_raises_rather_than_reporting_a_permission() -> None:
    connector = instagram.CASE.connector()
    with responses.RequestsMock() as rsps:
        error = fixture("graph", "error_app_limit")
        rsps.get(f"{instagram.API}/{instagram.IG_USER}", json=error, status=400)
        with pytest.raises(Exception) as caught:
            connector.diagnose()  # type: ignore[attr-defined]
    assert type(caught.value).__name__ == "RateLimited"


def test_usage_headroom_is_what_the_most_used_share_of_any_header_leaves() -> None:
    app = {"X-App-Usage": json.dumps({"call_count": 12, "total_time": 40, "total_cputime": 8})}
    buc = {"101": [{"type": "pages", "call_count": 91, "total_cputime": 3, "total_time": 5}]}
    page = {"x-business-use-case-usage": json.dumps(buc)}
    headroom = usage_headroom([app, page])
    assert headroom is not None and (headroom.limit, headroom.remaining) == (100, 9)
    assert headroom.low
    assert headroom.describe() == "9% of the usage budget left"  # a share, not a count
    assert usage_headroom([{"X-App-Usage": "not json"}, {}]) is None
    over = {"X-App-Usage": json.dumps({"call_count": 104})}
    assert usage_headroom([over]) == usage_headroom([{"X-App-Usage": '{"call_count": 100}'}])


def test_a_facebook_answer_with_media_is_refused_before_sending() -> None:
    from connectors.base import InboxItem, MediaItem, RenderedPost
    from tests.contract.test_replies import WHEN

    connector = facebook.CASE.connector()
    assert isinstance(connector, FacebookConnector)
    image = MediaItem(instagram.IMAGE, "", "image/jpeg")
    item = InboxItem("1_2", "comment", "Ada", "3", "Hi?", None, WHEN)
    with responses.RequestsMock(), pytest.raises(Rejected, match="text only"):
        connector.reply(item, RenderedPost(parts=("Yes",), media=(image,)), "key")
