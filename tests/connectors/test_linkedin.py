"""LinkedIn connector: little-format escaping, counting, images, comments, errors, metrics."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import responses
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from responses import matchers

from connectors.base import (
    AuthError,
    Capability,
    MediaItem,
    Published,
    RateLimited,
    Rejected,
    RenderedPost,
    Transient,
    Unknown,
)
from connectors.linkedin import (
    COMMENT_MAX_LENGTH,
    RESERVED,
    LinkedInConnector,
    escape_little,
    unescape_little,
)
from crosspost.rendering.text import split_text, thread_parts
from tests.contract.harness import fixture

API = "https://api.linkedin.com/rest"
TOKEN = "AQXtest-linkedin-token-secret-9876"
PERSON = "urn:li:person:a1b2C3d4E5"
ORG = "urn:li:organization:2414183"
SHARE = "urn:li:share:7012345678901234567"
UGC = "urn:li:ugcPost:7098765432109876543"
COMMENT = "urn:li:comment:(urn:li:activity:7012345678901234000,7012399990000000001)"
KEY = "crosspost-entry-test"


def make(author: str = PERSON, **extra: Any) -> LinkedInConnector:
    values = {"access_token": TOKEN, "author": author, **extra}
    return LinkedInConnector("acme", LinkedInConnector.Settings.model_validate(values))


def enc(urn: str) -> str:
    return urn.replace(":", "%3A").replace("(", "%28").replace(")", "%29").replace(",", "%2C")


def post_body(commentary: str, author: str = PERSON, **extra: Any) -> dict[str, Any]:
    return {
        "author": author,
        "commentary": commentary,
        "visibility": "PUBLIC",
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
        **extra,
    }


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def add_post(rsps: responses.RequestsMock, body: dict[str, Any], urn: str = SHARE) -> None:
    rsps.add(
        "POST",
        f"{API}/posts",
        status=201,
        body="",
        headers={"x-restli-id": urn},
        match=[matchers.json_params_matcher(body)],
    )


# --------------------------------------------------------------------------- settings

SETTINGS_CASES = [
    ({"access_token": TOKEN, "author": PERSON}, None),
    ({"access_token": TOKEN, "author": ORG}, None),
    ({"access_token": TOKEN, "author": PERSON, "version": "202610"}, None),
    ({"access_token": TOKEN, "author": PERSON, "visibility": "CONNECTIONS"}, None),
    ({"access_token": TOKEN, "author": ORG, "visibility": "LOGGED_IN"}, None),
    ({"access_token": TOKEN, "author": "urn:li:person:"}, "author"),
    ({"access_token": TOKEN, "author": "urn:li:organization:acme"}, "author"),
    ({"access_token": TOKEN, "author": "urn:li:company:123"}, "author"),
    ({"access_token": TOKEN, "author": "a1b2C3d4E5"}, "author"),
    ({"access_token": TOKEN, "author": "urn:li:person:abc def"}, "author"),
    ({"access_token": TOKEN, "author": PERSON, "version": "2026-05"}, "version"),
    ({"access_token": TOKEN, "author": PERSON, "version": "202613"}, "version"),
    ({"access_token": TOKEN, "author": PERSON, "visibility": "FRIENDS"}, "visibility"),
    ({"access_token": TOKEN, "author": ORG, "visibility": "CONNECTIONS"}, "CONNECTIONS"),
    ({"access_token": "  ", "author": PERSON}, "access_token"),
    ({"author": PERSON}, "access_token"),
    ({"access_token": TOKEN}, "author"),
    ({"access_token": TOKEN, "author": PERSON, "token": "x"}, "token"),
]


@pytest.mark.parametrize(("values", "error"), SETTINGS_CASES)
def test_settings_table(values: dict[str, Any], error: str | None) -> None:
    if error is None:
        settings_ = LinkedInConnector.Settings.model_validate(values)
        assert settings_.author == values["author"]
        return
    with pytest.raises(ValidationError) as caught:
        LinkedInConnector.Settings.model_validate(values)
    assert error in str(caught.value)


def test_settings_defaults_and_secret_hidden() -> None:
    settings_ = LinkedInConnector.Settings.model_validate({"access_token": TOKEN, "author": PERSON})
    assert settings_.version == "202605"
    assert settings_.visibility == "PUBLIC"
    assert TOKEN not in repr(settings_)
    assert TOKEN not in str(settings_.model_dump())


def test_building_the_connector_sends_nothing(rsps: responses.RequestsMock) -> None:
    connector = make()
    assert len(rsps.calls) == 0
    assert TOKEN not in repr(connector)
    assert connector.capabilities == {
        Capability.THREADS,
        Capability.MEDIA,
        Capability.RECONCILE,
        Capability.DELETE,
        Capability.FIRST_COMMENT,
    }


# --------------------------------------------------------------------------- little text


@pytest.mark.parametrize("char", sorted(RESERVED))
def test_every_reserved_character_is_escaped(char: str) -> None:
    assert escape_little(f"a{char}b") == f"a\\{char}b"
    assert unescape_little(f"a\\{char}b") == f"a{char}b"


def test_reserved_set_is_the_documented_one() -> None:
    assert set("\\|{}@[]()<>#*_~") == RESERVED


@pytest.mark.parametrize(
    ("text", "little"),
    [
        ("Plain words, 100% fine! é 😀", "Plain words, 100% fine! é 😀"),
        ("(see below)", "\\(see below\\)"),
        ("a\\b", "a\\\\b"),
        ("ping @alice", "ping \\@alice"),
        ("*bold* _it_ ~x~", "\\*bold\\* \\_it\\_ \\~x\\~"),
        ("<tag> [x] {y} a|b", "\\<tag\\> \\[x\\] \\{y\\} a\\|b"),
        ("https://example.org/a_b(c)", "https://example.org/a\\_b\\(c\\)"),
    ],
)
def test_escaping_table(text: str, little: str) -> None:
    assert escape_little(text) == little
    assert unescape_little(little) == text


@pytest.mark.parametrize(
    ("text", "little"),
    [
        ("#launch day", "{hashtag|\\#|launch} day"),
        ("New #release_notes!", "New {hashtag|\\#|release\\_notes}!"),
        ("#Python #Café", "{hashtag|\\#|Python} {hashtag|\\#|Café}"),
        ("C# and F#", "C\\# and F\\#"),
        ("issue #42", "issue \\#42"),
        ("https://example.org/page#intro", "https://example.org/page\\#intro"),
        ("a # b", "a \\# b"),
    ],
)
def test_hashtags_stay_clickable_other_hashes_are_escaped(text: str, little: str) -> None:
    assert escape_little(text) == little
    assert unescape_little(little) == text


def test_unescape_reads_mention_templates_as_names() -> None:
    assert unescape_little("Thanks @[Devtestco](urn:li:organization:2414183)!") == (
        "Thanks @Devtestco!"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello", 5),
        ("a_b", 4),
        ("(x)", 5),
        ("😀", 2),
        ("e\u0301", 2),
        ("#tag", len("{hashtag|\\#|tag}")),
        ("x" * 2997 + "__", 3001),
    ],
)
def test_measure_counts_the_escaped_commentary_in_utf16(text: str, expected: int) -> None:
    assert make().measure(text) == expected


def test_check_refuses_text_that_only_escaping_pushes_over_the_limit() -> None:
    connector = make()
    assert connector.check(RenderedPost(parts=("x" * 2998 + "_",))) == []
    problems = connector.check(RenderedPost(parts=("x" * 2997 + "__",)))
    assert problems and "3001" in problems[0]


# --------------------------------------------------------------------------- publishing


def test_publish_sends_headers_escaped_commentary_and_reads_x_restli_id(
    rsps: responses.RequestsMock,
) -> None:
    rsps.add(
        "POST",
        f"{API}/posts",
        status=201,
        body="",
        headers={"x-restli-id": SHARE},
        match=[
            matchers.header_matcher(
                {
                    "Authorization": f"Bearer {TOKEN}",
                    "LinkedIn-Version": "202605",
                    "X-Restli-Protocol-Version": "2.0.0",
                }
            ),
            matchers.json_params_matcher(post_body("v2 \\(beta\\) {hashtag|\\#|ship}")),
        ],
    )
    published = make().publish(RenderedPost(parts=("v2 (beta) #ship",)), KEY)
    assert published.remote_id == SHARE
    assert published.url == f"https://www.linkedin.com/feed/update/{SHARE}"
    assert published.thread_ids == (SHARE,)
    assert published.published_at.tzinfo is not None


def test_version_setting_goes_in_the_header(rsps: responses.RequestsMock) -> None:
    rsps.add(
        "POST",
        f"{API}/posts",
        status=201,
        headers={"x-restli-id": SHARE},
        match=[matchers.header_matcher({"LinkedIn-Version": "202610"})],
    )
    make(version="202610").publish(RenderedPost(parts=("hi",)), KEY)


def test_visibility_option_overrides_the_setting(rsps: responses.RequestsMock) -> None:
    body = post_body("members only")
    body["visibility"] = "CONNECTIONS"
    add_post(rsps, body)
    post = RenderedPost(parts=("members only",), options={"visibility": "connections"})
    make().publish(post, KEY)


def test_missing_x_restli_id_is_unknown(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", f"{API}/posts", status=201, body="")
    with pytest.raises(Unknown, match="x-restli-id"):
        make().publish(RenderedPost(parts=("hi",)), KEY)


@pytest.mark.parametrize(
    ("title", "expected_title"), [("Launch notes", "Launch notes"), ("", None)]
)
def test_link_becomes_an_article_card(
    rsps: responses.RequestsMock, title: str, expected_title: str | None
) -> None:
    link = "https://example.org/launch"
    article = {"source": link, "title": expected_title or link}
    add_post(rsps, post_body("Read it", content={"article": article}))
    post = RenderedPost(parts=("Read it",), link=link, title=title)
    make().publish(post, KEY)


def _image(tmp_path: Path, name: str, alt: str = "") -> MediaItem:
    path = tmp_path / name
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + name.encode())
    return MediaItem(path=path, alt=alt, mime_type="image/png")


def _add_upload(rsps: responses.RequestsMock, payload: str, author: str = PERSON) -> str:
    answer = fixture("linkedin", payload)
    rsps.add(
        "POST",
        f"{API}/images",
        json=answer,
        match=[
            matchers.query_param_matcher({"action": "initializeUpload"}),
            matchers.json_params_matcher({"initializeUploadRequest": {"owner": author}}),
        ],
    )
    return str(answer["value"]["uploadUrl"])


def test_image_is_uploaded_and_attached_with_alt_text(
    rsps: responses.RequestsMock, tmp_path: Path
) -> None:
    item = _image(tmp_path, "chart.png", alt="Bar chart of weekly sign-ups")
    upload_url = _add_upload(rsps, "images_initialize_upload")
    rsps.add(
        "PUT",
        upload_url,
        status=201,
        match=[matchers.header_matcher({"Content-Type": "image/png"})],
    )
    media = {"id": "urn:li:image:D4E10AQHkSLBtRs4pWg", "altText": "Bar chart of weekly sign-ups"}
    add_post(rsps, post_body("Numbers", content={"media": media}))
    # The link card is dropped: LinkedIn content is one kind only, images win.
    make().publish(RenderedPost(parts=("Numbers",), media=(item,), link="https://x.org"), KEY)
    put = next(c for c in rsps.calls if c.request.method == "PUT")
    assert put.request.body == item.path.read_bytes()


def test_several_images_become_a_multi_image(rsps: responses.RequestsMock, tmp_path: Path) -> None:
    first = _image(tmp_path, "a.png", alt="First")
    second = _image(tmp_path, "b.png")
    rsps.add("PUT", _add_upload(rsps, "images_initialize_upload"), status=201)
    rsps.add("PUT", _add_upload(rsps, "images_initialize_upload_second"), status=201)
    images = [
        {"id": "urn:li:image:D4E10AQHkSLBtRs4pWg", "altText": "First"},
        {"id": "urn:li:image:D4E10AQGsecondImg"},
    ]
    add_post(rsps, post_body("Two", content={"multiImage": {"images": images}}))
    make().publish(RenderedPost(parts=("Two",), media=(first, second)), KEY)


def test_failed_image_upload_is_transient_and_posts_nothing(
    rsps: responses.RequestsMock, tmp_path: Path
) -> None:
    item = _image(tmp_path, "a.png")
    rsps.add("PUT", _add_upload(rsps, "images_initialize_upload"), status=500)
    with pytest.raises(Transient, match="platform error"):
        make().publish(RenderedPost(parts=("x",), media=(item,)), KEY)
    assert not any(c.request.url == f"{API}/posts" for c in rsps.calls)


def test_too_many_images_are_refused_before_sending(tmp_path: Path) -> None:
    items = tuple(_image(tmp_path, f"{n}.png") for n in range(21))
    with pytest.raises(Rejected, match="21 media files"):
        make().publish(RenderedPost(parts=("x",), media=items), KEY)


# --------------------------------------------------------------------------- threads


def _add_comment(rsps: responses.RequestsMock, text: str, *, header: bool = True) -> None:
    rsps.add(
        "POST",
        f"{API}/socialActions/{enc(SHARE)}/comments",
        status=201,
        json=fixture("linkedin", "comment_created"),
        headers={"x-restli-id": COMMENT} if header else {},
        match=[
            matchers.json_params_matcher(
                {"actor": PERSON, "object": SHARE, "message": {"text": text}}
            )
        ],
    )


def test_later_parts_become_comments_on_the_first_post(rsps: responses.RequestsMock) -> None:
    add_post(rsps, post_body("Part one \\(of two\\)"))
    _add_comment(rsps, "Part two (plain text, no escaping)")
    post = RenderedPost(parts=("Part one (of two)", "Part two (plain text, no escaping)"))
    published = make().publish(post, KEY)
    assert published.remote_id == SHARE
    assert published.thread_ids == (SHARE, COMMENT)


def test_comment_urn_is_read_from_the_body_without_header(rsps: responses.RequestsMock) -> None:
    add_post(rsps, post_body("one"))
    _add_comment(rsps, "two", header=False)
    published = make().publish(RenderedPost(parts=("one", "two")), KEY)
    assert published.thread_ids == (SHARE, COMMENT)


def test_long_later_part_is_cut_to_the_comment_limit(rsps: responses.RequestsMock) -> None:
    words = " ".join(f"word{n:04d}" for n in range(300))  # 2699 characters
    pieces = thread_parts(words, COMMENT_MAX_LENGTH, LinkedInConnector.measure_comment)
    assert len(pieces) == 3
    add_post(rsps, post_body("intro"))
    for piece in pieces:
        _add_comment(rsps, piece)
    published = make().publish(RenderedPost(parts=("intro", words)), KEY)
    assert len(published.thread_ids) == 4
    assert " ".join(pieces) == words


def test_failed_comment_keeps_the_published_post_as_partial(rsps: responses.RequestsMock) -> None:
    add_post(rsps, post_body("one"))
    rsps.add(
        "POST",
        f"{API}/socialActions/{enc(SHARE)}/comments",
        status=500,
        json=fixture("linkedin", "error_500"),
    )
    with pytest.raises(Unknown) as caught:
        make().publish(RenderedPost(parts=("one", "two")), KEY)
    assert caught.value.partial is not None
    assert caught.value.partial.remote_id == SHARE
    assert caught.value.partial.thread_ids == (SHARE,)


# --------------------------------------------------------------------------- errors


def test_duplicate_post_is_rejected_with_the_existing_urn(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", f"{API}/posts", status=422, json=fixture("linkedin", "error_duplicate"))
    with pytest.raises(Rejected) as caught:
        make().publish(RenderedPost(parts=("again",)), KEY)
    assert "urn:li:share:7141138937766391808" in caught.value.reason
    assert "duplicate" in caught.value.reason


def test_other_422_is_rejected_with_linkedins_message(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", f"{API}/posts", status=422, json=fixture("linkedin", "error_422"))
    with pytest.raises(Rejected, match="commentary :: field is required"):
        make().publish(RenderedPost(parts=("x",)), KEY)


def test_expired_token_says_how_to_renew(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", f"{API}/posts", status=401, json=fixture("linkedin", "error_401"))
    with pytest.raises(AuthError) as caught:
        make().publish(RenderedPost(parts=("x",)), KEY)
    message = str(caught.value)
    assert "60 days" in message
    assert "has expired" in message
    assert TOKEN not in message


def test_missing_permission_names_the_scope(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", f"{API}/posts", status=403, json=fixture("linkedin", "error_403"))
    with pytest.raises(AuthError, match="w_member_social"):
        make().publish(RenderedPost(parts=("x",)), KEY)


def test_daily_limit_without_retry_after_waits_for_midnight_utc(
    rsps: responses.RequestsMock,
) -> None:
    rsps.add("POST", f"{API}/posts", status=429, json=fixture("linkedin", "error_429"))
    connector = make()
    connector.http.clock = lambda: datetime(2026, 11, 26, 15, 30, tzinfo=UTC)
    with pytest.raises(RateLimited) as caught:
        connector.publish(RenderedPost(parts=("x",)), KEY)
    assert caught.value.retry_at == datetime(2026, 11, 27, tzinfo=UTC)
    assert "DAY limit" in str(caught.value)


def test_rate_limit_on_reads_is_raised_too(rsps: responses.RequestsMock) -> None:
    rsps.add(
        "GET",
        f"{API}/socialActions/{enc(SHARE)}",
        status=429,
        headers={"Retry-After": "120"},
        json=fixture("linkedin", "error_429"),
    )
    connector = make()
    connector.http.clock = lambda: datetime(2026, 11, 26, 15, 30, tzinfo=UTC)
    with pytest.raises(RateLimited) as caught:
        connector.fetch_metrics([SHARE])
    assert caught.value.retry_at == datetime(2026, 11, 26, 15, 32, tzinfo=UTC)


# --------------------------------------------------------------------------- reconcile


def _add_finder(rsps: responses.RequestsMock, author: str = ORG) -> None:
    rsps.add(
        "GET",
        f"{API}/posts",
        json=fixture("linkedin", "posts_by_author"),
        match=[
            matchers.header_matcher({"X-RestLi-Method": "FINDER"}),
            matchers.query_param_matcher(
                {"q": "author", "author": author, "count": "20", "sortBy": "LAST_MODIFIED"}
            ),
        ],
    )


def test_find_recent_matches_the_unescaped_commentary(rsps: responses.RequestsMock) -> None:
    _add_finder(rsps)
    text = "We shipped v2 (finally) - read the notes #release_notes https://example.org/launch"
    found = make(ORG).find_recent(KEY, text + "\n")
    assert found is not None
    assert found.remote_id == SHARE
    assert found.url == f"https://www.linkedin.com/feed/update/{SHARE}"
    assert found.published_at == datetime.fromtimestamp(1764151205, UTC)
    assert "author=urn%3Ali%3Aorganization%3A2414183" in str(rsps.calls[0].request.url)


def test_find_recent_without_a_match_is_none(rsps: responses.RequestsMock) -> None:
    _add_finder(rsps)
    assert make(ORG).find_recent(KEY, "Something never posted") is None


# --------------------------------------------------------------------------- metrics


def test_member_metrics_come_from_social_actions_only(rsps: responses.RequestsMock) -> None:
    rsps.add("GET", f"{API}/socialActions/{enc(SHARE)}", json=fixture("linkedin", "social_actions"))
    metrics = make(PERSON).fetch_metrics([SHARE])
    assert metrics[SHARE].likes == 42
    assert metrics[SHARE].replies == 3
    assert metrics[SHARE].reposts is None
    assert metrics[SHARE].views is None


def test_page_metrics_add_shares_and_impressions(rsps: responses.RequestsMock) -> None:
    rsps.add("GET", f"{API}/socialActions/{enc(SHARE)}", json=fixture("linkedin", "social_actions"))
    rsps.add(
        "GET",
        f"{API}/organizationalEntityShareStatistics",
        json=fixture("linkedin", "share_statistics_shares"),
    )
    metrics = make(ORG).fetch_metrics([SHARE])
    assert (metrics[SHARE].likes, metrics[SHARE].replies) == (42, 3)
    assert (metrics[SHARE].reposts, metrics[SHARE].views) == (6, 1045)
    # Rest.li 2.0 lists: parentheses and commas raw, URNs encoded inside.
    url = str(rsps.calls[1].request.url)
    assert "shares=List(urn%3Ali%3Ashare%3A7012345678901234567)" in url
    assert "organizationalEntity=urn%3Ali%3Aorganization%3A2414183" in url


def test_unknown_posts_are_left_out(rsps: responses.RequestsMock) -> None:
    rsps.add("GET", f"{API}/socialActions/{enc(SHARE)}", status=404, json={"status": 404})
    assert make(ORG).fetch_metrics([SHARE]) == {}


def test_member_account_metrics_are_unavailable(rsps: responses.RequestsMock) -> None:
    metrics = make(PERSON).account_metrics()
    assert (metrics.followers, metrics.following, metrics.posts, metrics.members) == (
        None,
        None,
        None,
        None,
    )
    assert len(rsps.calls) == 0


def test_page_followers_come_from_network_sizes(rsps: responses.RequestsMock) -> None:
    rsps.add(
        "GET",
        f"{API}/networkSizes/{enc(ORG)}",
        json=fixture("linkedin", "network_sizes"),
        match=[matchers.query_param_matcher({"edgeType": "COMPANY_FOLLOWED_BY_MEMBER"})],
    )
    assert make(ORG).account_metrics().followers == 18342


def test_unreadable_metrics_body_is_transient(rsps: responses.RequestsMock) -> None:
    rsps.add("GET", f"{API}/networkSizes/{enc(ORG)}", body="<html>oops</html>")
    with pytest.raises(Transient):
        make(ORG).account_metrics()


# --------------------------------------------------------------------------- delete


@pytest.mark.parametrize("status", [204, 404])
def test_delete_uses_the_encoded_urn(rsps: responses.RequestsMock, status: int) -> None:
    rsps.add("DELETE", f"{API}/posts/{enc(UGC)}", status=status)
    make().delete(UGC)


def test_delete_refused_is_auth_error(rsps: responses.RequestsMock) -> None:
    rsps.add("DELETE", f"{API}/posts/{enc(UGC)}", status=403, json=fixture("linkedin", "error_403"))
    with pytest.raises(AuthError):
        make().delete(UGC)


# --------------------------------------------------------------------------- properties

_WORD = st.text(alphabet="abcXYZ09_#@()[]*~\\|<>{}é😀", min_size=1, max_size=8)
_TEXT = st.lists(
    st.tuples(_WORD, st.sampled_from([" ", "  ", "\n", "\n\n", ". "])), min_size=1, max_size=60
).map(lambda pairs: "".join(word + gap for word, gap in pairs))


@settings(max_examples=150, deadline=None)
@given(text=_TEXT, limit=st.integers(min_value=40, max_value=120))
def test_thread_parts_fit_the_limit_by_linkedins_count(text: str, limit: int) -> None:
    connector = make()
    for part in thread_parts(text, limit, connector.measure):
        assert connector.measure(part) <= limit


@settings(max_examples=150, deadline=None)
@given(text=_TEXT, limit=st.integers(min_value=40, max_value=120))
def test_split_text_rejoins_to_the_original(text: str, limit: int) -> None:
    assert "".join(split_text(text, limit, make().measure)) == text


_TEMPLATE = re.compile(r"\{hashtag\|\\#\|(?:\\.|[^\\}])*\}")


def _bare_reserved(little: str) -> list[str]:
    """Reserved characters that are neither escaped nor part of a hashtag template."""
    rest = _TEMPLATE.sub("", little)
    bare: list[str] = []
    index = 0
    while index < len(rest):
        if rest[index] == "\\":
            index += 2
            continue
        if rest[index] in RESERVED:
            bare.append(rest[index])
        index += 1
    return bare


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(sorted(RESERVED))))
def test_escaping_round_trips_and_leaves_nothing_reserved_bare(text: str) -> None:
    little = escape_little(text)
    assert unescape_little(little) == text
    assert _bare_reserved(little) == []


# --------------------------------------------------------------------------- first comment


def test_first_comment_is_a_comment_on_the_post(rsps: responses.RequestsMock) -> None:
    _add_comment(rsps, "Register here: https://example.org (free)")
    parent = Published(SHARE, "https://www.linkedin.com/feed/update/x/", datetime.now(UTC))
    comment = RenderedPost(parts=("Register here: https://example.org (free)",))
    published = make().publish_comment(comment, parent, KEY)
    assert published.remote_id == COMMENT
    assert published.url == parent.url


def test_a_first_comment_longer_than_a_comment_may_be_is_refused() -> None:
    parent = Published(SHARE, None, datetime.now(UTC))
    with pytest.raises(Rejected, match="comment is 1251 characters long"):
        make().publish_comment(RenderedPost(parts=("x" * 1251,)), parent, KEY)
