"""LinkedIn connector: member or organisation posts through the versioned Posts API.

API pages used:

- Posts API: https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api
- little text format (commentary): https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/little-text-format
- Images API: https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/images-api
- MultiImage API: https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/multiimage-post-api
- Comments API: https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/comments-api
- Social actions (likes and comments summaries): https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/network-update-social-actions
- Organization share statistics: https://learn.microsoft.com/en-us/linkedin/marketing/community-management/organizations/share-statistics
- Organization follower count (networkSizes): https://learn.microsoft.com/en-us/linkedin/marketing/community-management/organizations/organization-lookup-api
- Error handling: https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/error-handling
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import ClassVar, TypeVar

import requests

from connectors.attachments import MediaItem
from connectors.base import STANDARD_CAPABILITIES, Capability, Extra, Limits, RenderedPost
from connectors.errors import ConnectorError, Rejected, Transient
from connectors.http import HttpClient, Kind, Outcome, Verdict
from connectors.linkedin.doctor import LinkedInDoctor
from connectors.linkedin.settings import LinkedInSettings
from connectors.linkedin.shapes import (
    Content,
    CreatedComment,
    Image,
    NetworkSize,
    PostBody,
    Posts,
    SocialActions,
    Statistics,
    Totals,
    UploadAnswer,
)
from connectors.linkedin.text import (
    COMMENT_MAX_LENGTH,
    DEFAULT_VERSION,
    RESERVED,
    _describe,
    _encoded,
    _millis,
    _next_midnight,
    _post_url,
    escape_little,
    unescape_little,
)
from connectors.payload import JSONObject, Payload, read_model
from connectors.ratelimit import parse_retry_at
from connectors.results import AccountMetrics, Metrics, Published
from crosspost.rendering.markdown_forms import TextFormat
from crosspost.rendering.text import thread_parts, utf16_length

__all__ = [
    "COMMENT_MAX_LENGTH",
    "DEFAULT_VERSION",
    "RESERVED",
    "LinkedInConnector",
    "LinkedInSettings",
    "escape_little",
    "unescape_little",
]

_P = TypeVar("_P", bound=Payload)


class LinkedInConnector(LinkedInDoctor):
    """Posts as a LinkedIn member or organisation; later thread parts become comments."""

    name: ClassVar[str] = "linkedin"
    #: Plain text: Markdown links spelt out as ``text (url)``.
    text_format: ClassVar[TextFormat] = TextFormat.PLAIN
    base_url: ClassVar[str] = "https://api.linkedin.com/rest"
    docs_url: ClassVar[str] = (
        "https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api"
    )
    limits: ClassVar[Limits] = Limits(
        max_length=3000,
        unit="characters (UTF-16, little format escaped)",
        max_media=20,
        media_types=frozenset({"image/jpeg", "image/png", "image/gif"}),
        alt_text_max=4086,
    )
    capabilities: frozenset[Capability] = STANDARD_CAPABILITIES | {Capability.FIRST_COMMENT}

    Settings = LinkedInSettings

    def _make_client(self) -> HttpClient:
        return self._bearer_client(
            self.settings.access_token.get_secret_value(),
            headers={
                "LinkedIn-Version": self.settings.version,
                "X-Restli-Protocol-Version": "2.0.0",
            },
            describe=_describe,
        )

    @property
    def _is_organization(self) -> bool:
        return self.settings.author.startswith("urn:li:organization:")

    # -- counting -------------------------------------------------------------

    def measure(self, text: str) -> int:
        """UTF-16 code units of the escaped commentary that is actually sent.

        LinkedIn does not document whether its 3000-character limit applies to
        the little text or to what readers see; counting what is sent, in the
        unit of Java strings, can only err on the safe side.
        """
        return utf16_length(escape_little(text))

    @staticmethod
    def measure_comment(text: str) -> int:
        """UTF-16 code units of a comment (comments are plain text, not little)."""
        return utf16_length(text)

    # -- HTTP -----------------------------------------------------------------

    def classify(self, response: requests.Response) -> Verdict | None:
        """A 429 without ``Retry-After`` waits for the daily reset (midnight UTC)."""
        if response.status_code != 429:
            return None
        now = self.http.clock()
        retry_at = parse_retry_at(response.headers, now) or _next_midnight(now)
        return Verdict(
            Outcome.RATE_LIMITED, f"rate limited: {_describe(response)}", 429, retry_at=retry_at
        )

    def _json(self, response: requests.Response, kind: Kind = Kind.READ) -> JSONObject:
        return self.http.json_object(response, kind)

    def _read(self, response: requests.Response, answer: type[_P], kind: Kind = Kind.READ) -> _P:
        return self.http.read(self._json(response, kind), answer, kind)

    # -- publishing -----------------------------------------------------------

    def _publish(self, post: RenderedPost, idempotency_key: str) -> Published:
        """The first part as a post, every later part as a comment on it.

        LinkedIn has no threads and no idempotency key; a comment that fails
        leaves the post and earlier comments in ``error.partial``.
        """
        root = self._create_post(post)
        ids = [root.remote_id]
        try:
            for text in self._comment_texts(post.parts[1:]):
                ids.append(self._create_comment(root.remote_id, text))
        except ConnectorError as error:
            error.partial = replace(root, thread_ids=tuple(ids))
            raise
        return replace(root, thread_ids=tuple(ids))

    def _comment_texts(self, parts: Sequence[str]) -> Iterator[str]:
        """Later parts, each cut again to the shorter comment limit when needed."""
        for part in parts:
            if self.measure_comment(part) <= COMMENT_MAX_LENGTH:
                yield part
            else:
                yield from thread_parts(part, COMMENT_MAX_LENGTH, self.measure_comment)

    def _create_post(self, post: RenderedPost) -> Published:
        body = self._post_body(post)
        content = self._content(post)
        if content:
            body["content"] = content
        kind = Kind.PUBLISHING_WRITE
        response = self.http.request("POST", "posts", kind=kind, json=body)
        urn = response.headers.get("x-restli-id", "").strip()
        if not urn:
            message = "LinkedIn accepted the post but sent no x-restli-id"
            raise self.http.unreadable(message, kind, response.status_code)
        return Published(remote_id=urn, url=_post_url(urn), published_at=self.http.clock())

    def _post_body(self, post: RenderedPost) -> PostBody:
        visibility = str(post.options.get("visibility", self.settings.visibility)).upper()
        return {
            "author": self.settings.author,
            "commentary": escape_little(post.text),
            "visibility": visibility,
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }

    def _content(self, post: RenderedPost) -> Content | None:
        """Images (one, or a multiImage of 2–20), else an article card for the link."""
        if post.media:
            images = [self._upload_image(item) for item in post.media]
            if len(images) == 1:
                return {"media": images[0]}
            return {"multiImage": {"images": images}}
        if post.link:
            return {"article": {"source": post.link, "title": post.title or post.link}}
        return None

    def _upload_image(self, item: MediaItem) -> Image:
        """Register and upload one image; its ``{id, altText}`` for the post.

        Nothing is published yet, so a failure here is always safe to retry.
        """
        try:
            urn, upload_url = self._initialize_upload()
            self.http.request(
                "PUT",
                upload_url,
                kind=Kind.HARMLESS_WRITE,
                data=item.path.read_bytes(),
                headers={"Content-Type": item.mime_type},
            )
        except OSError as error:
            raise self.error(
                Transient, f"{item.path.name}: cannot read the file ({error.strerror})"
            ) from None
        image: Image = {"id": urn}
        if item.alt:
            image["altText"] = item.alt
        return image

    def _initialize_upload(self) -> tuple[str, str]:
        request = {"initializeUploadRequest": {"owner": self.settings.author}}
        kind = Kind.HARMLESS_WRITE
        params = {"action": "initializeUpload"}
        response = self.http.request("POST", "images", kind=kind, params=params, json=request)
        value = self._read(response, UploadAnswer, kind).value
        urn, upload_url = (value.image, value.upload_url) if value else (None, None)
        if urn is None or upload_url is None:
            message = "LinkedIn's image upload answer has no image or uploadUrl"
            raise self.http.unreadable(message, kind)
        return urn, upload_url

    def publish_comment(
        self, post: RenderedPost, parent: Published, idempotency_key: str
    ) -> Published:
        """The first comment on the post (``POST /rest/socialActions/{urn}/comments``).

        Comments are plain text, up to 1,250 characters; LinkedIn takes no key.

        Raises:
            AuthError, RateLimited, Rejected, Transient, Unknown.
        """
        length = self.measure_comment(post.text)
        if length > COMMENT_MAX_LENGTH:
            message = f"comment is {length} characters long (at most {COMMENT_MAX_LENGTH})"
            raise self.error(Rejected, message)
        urn = self._create_comment(parent.remote_id, post.text)
        return Published(remote_id=urn, url=parent.url, published_at=self.http.clock())

    def _create_comment(self, post_urn: str, text: str) -> str:
        """Comment ``text`` on ``post_urn`` as the author; the comment's URN."""
        body = {"actor": self.settings.author, "object": post_urn, "message": {"text": text}}
        kind = Kind.PUBLISHING_WRITE
        path = f"socialActions/{_encoded(post_urn)}/comments"
        response = self.http.request("POST", path, kind=kind, json=body)
        urn = response.headers.get("x-restli-id", "").strip()
        if not urn and response.content:
            payload = self._read(response, CreatedComment, kind)
            urn = str(payload.urn or payload.id or "")
        if not urn:
            raise self.http.unreadable("LinkedIn accepted a comment but did not name it", kind)
        return urn

    # -- reading --------------------------------------------------------------

    def find_recent(self, idempotency_key: str, text: str) -> Published | None:
        """The author's recent post whose commentary reads ``text``, if any.

        LinkedIn takes no idempotency key, so the commentary is the only
        evidence; the 20 latest posts are compared after unescaping.
        """
        response = self.http.request(
            "GET",
            "posts",
            kind=Kind.READ,
            params={
                "q": "author",
                "author": self.settings.author,
                "count": "20",
                "sortBy": "LAST_MODIFIED",
            },
            headers={"X-RestLi-Method": "FINDER"},
        )
        wanted = text.strip()
        for element in self._read(response, Posts).elements:
            commentary = element.commentary or ""
            if unescape_little(commentary).strip() == wanted and element.id:
                urn = element.id
                when = _millis(element.published_at) or _millis(element.created_at)
                return Published(
                    remote_id=urn, url=_post_url(urn), published_at=when or self.http.clock()
                )
        return None

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        """Likes and first-level comments for every post; shares and impressions for pages."""
        found: dict[str, Metrics] = {}
        for urn in remote_ids:
            metrics = self._social_actions(urn)
            if metrics is not None:
                found[urn] = metrics
        if self._is_organization and found:
            statistics = self._share_statistics(list(found))
            for urn, totals in statistics.items():
                counts = read_model(Totals, totals) or Totals.empty()
                if urn in found:
                    found[urn] = replace(
                        found[urn],
                        reposts=counts.share_count,
                        views=counts.impression_count,
                        raw={**found[urn].raw, "totalShareStatistics": totals},
                    )
        return found

    def _social_actions(self, urn: str) -> Metrics | None:
        path = f"socialActions/{_encoded(urn)}"
        response = self.http.request("GET", path, kind=Kind.READ, ok=(404,))
        if response.status_code == 404:
            return None
        body = self._json(response)
        actions = self.http.read(body, SocialActions, Kind.READ)
        likes, comments = actions.likes_summary, actions.comments_summary
        return Metrics(
            likes=likes.total_likes if likes else None,
            replies=comments.total_first_level_comments if comments else None,
            raw=body,
        )

    def _share_statistics(self, urns: Sequence[str]) -> dict[str, dict[str, object]]:
        """``totalShareStatistics`` per post URN (shares and ugcPosts asked separately)."""
        org = _encoded(self.settings.author)
        result: dict[str, dict[str, object]] = {}
        for kind, key in (("share", "shares"), ("ugcPost", "ugcPosts")):
            chosen = [u for u in urns if u.startswith(f"urn:li:{kind}:")]
            if not chosen:
                continue
            listed = ",".join(_encoded(u) for u in chosen)
            query = f"q=organizationalEntity&organizationalEntity={org}&{key}=List({listed})"
            path = f"organizationalEntityShareStatistics?{query}"
            answer = self._read(self.http.request("GET", path, kind=Kind.READ), Statistics)
            for element in answer.elements:
                post, totals = element.post(kind), element.total_share_statistics
                if post is not None and totals is not None:
                    result[post] = totals
        return result

    def account_metrics(self) -> AccountMetrics:
        """Followers of an organisation page; LinkedIn reports none for members."""
        if not self._is_organization:
            return AccountMetrics()
        response = self.http.request(
            "GET",
            f"networkSizes/{_encoded(self.settings.author)}",
            kind=Kind.READ,
            params={"edgeType": "COMPANY_FOLLOWED_BY_MEMBER"},
        )
        body = self._json(response)
        size = self.http.read(body, NetworkSize, Kind.READ).first_degree_size
        return AccountMetrics(followers=size, raw=body)

    def delete(self, remote_id: str, extra: Extra | None = None) -> None:
        """Delete a post (its comments go with it); an already deleted post is fine."""
        path = f"posts/{_encoded(remote_id)}"
        self.http.request("DELETE", path, kind=Kind.HARMLESS_WRITE, ok=(404,))
