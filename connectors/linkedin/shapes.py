"""The bodies LinkedIn's REST API is sent and the shapes of its answers."""

from __future__ import annotations

from typing import NotRequired, TypedDict

from pydantic import Field

from connectors.payload import CamelPayload, Items, Maybe, Payload

# --------------------------------------------------------------------------- requests


class Image(TypedDict):
    """An uploaded image of a post, with its alt text."""

    id: str
    altText: NotRequired[str]


class MultiImage(TypedDict):
    """Two to twenty images."""

    images: list[Image]


class Article(TypedDict):
    """The card of a link."""

    source: str
    title: str


class Content(TypedDict, total=False):
    """What a post carries besides its commentary: images or an article."""

    media: Image
    multiImage: MultiImage
    article: Article


class Distribution(TypedDict):
    """Where a post goes: the main feed, to everyone its visibility allows."""

    feedDistribution: str
    targetEntities: list[str]
    thirdPartyDistributionChannels: list[str]


class PostBody(TypedDict):
    """``POST /rest/posts``."""

    author: str
    commentary: str
    visibility: str
    distribution: Distribution
    lifecycleState: str
    isReshareDisabledByAuthor: bool
    content: NotRequired[Content]


# --------------------------------------------------------------------------- answers


class _InputError(Payload):
    code: Maybe[str]


class _ErrorDetails(CamelPayload):
    input_errors: Items[_InputError]


class ErrorBody(CamelPayload):
    """An error answer: ``{message, serviceErrorCode, status}`` and maybe ``errorDetails``."""

    message: Maybe[str]
    service_error_code: Maybe[int | str]
    code: Maybe[int | str]
    error_details: Maybe[_ErrorDetails]

    def input_codes(self) -> set[str | None]:
        """The codes of the input errors (``DUPLICATE_POST``, …)."""
        details = self.error_details
        return {error.code for error in details.input_errors} if details else set()


class _Upload(CamelPayload):
    image: Maybe[str]
    upload_url: Maybe[str]


class UploadAnswer(Payload):
    """``POST /rest/images?action=initializeUpload``: the image's URN and where to send it."""

    value: Maybe[_Upload]


class CreatedComment(Payload):
    """``POST /rest/socialActions/{urn}/comments`` when the URN is not in a header."""

    urn: Maybe[str | int] = Field(alias="$URN")
    id: Maybe[str | int]


class PostElement(CamelPayload):
    """One post of the author finder."""

    id: Maybe[str]
    commentary: Maybe[str]
    published_at: Maybe[int | float]
    created_at: Maybe[int | float]


class Posts(Payload):
    """``GET /rest/posts?q=author``."""

    elements: Items[PostElement]


class _Summary(CamelPayload):
    total_likes: Maybe[int]
    total_first_level_comments: Maybe[int]


class SocialActions(CamelPayload):
    """``GET /rest/socialActions/{urn}``: likes and first-level comments."""

    likes_summary: Maybe[_Summary]
    comments_summary: Maybe[_Summary]


class ShareStatistics(CamelPayload):
    """One element of ``organizationalEntityShareStatistics``."""

    share: Maybe[str]
    ugc_post: Maybe[str]
    total_share_statistics: Maybe[dict[str, object]]

    def post(self, kind: str) -> str | None:
        """The URN of the ``share`` or ``ugcPost`` these statistics are of."""
        return self.share if kind == "share" else self.ugc_post


class Statistics(Payload):
    """``GET /rest/organizationalEntityShareStatistics``."""

    elements: Items[ShareStatistics]


class Totals(CamelPayload):
    """``totalShareStatistics``: the counts a page sees of one post."""

    share_count: Maybe[int]
    impression_count: Maybe[int]


class NetworkSize(CamelPayload):
    """``GET /rest/networkSizes/{urn}``: the followers of a page."""

    first_degree_size: Maybe[int]
