"""The records Bluesky is sent and the shapes of its XRPC answers."""

from __future__ import annotations

from typing import NotRequired, Required, TypedDict

from connectors.payload import CamelPayload, Items, Maybe, Payload, Text

# --------------------------------------------------------------------------- records

#: ``app.bsky.richtext.facet#link``, ``#mention`` or ``#tag``, with its ``$type``.
Feature = dict[str, str]


class ByteSlice(TypedDict):
    """UTF-8 byte offsets of a facet in the text."""

    byteStart: int
    byteEnd: int


class Facet(TypedDict):
    """Rich text over a byte slice of the post."""

    index: ByteSlice
    features: list[Feature]


class StrongRef(TypedDict):
    """A record by URI and content hash."""

    uri: str
    cid: str


class ReplyRef(TypedDict):
    """Where a reply hangs: the thread's first post and the post it answers."""

    root: StrongRef
    parent: StrongRef


class AspectRatio(TypedDict):
    """An image's width and height."""

    width: int
    height: int


class Image(TypedDict):
    """``app.bsky.embed.images#image``: an uploaded blob and its alt text."""

    image: dict[str, object]
    alt: str
    aspectRatio: NotRequired[AspectRatio]


class External(TypedDict):
    """The card of a link."""

    uri: str
    title: str
    description: str


#: ``app.bsky.embed.images``.
ImagesEmbed = TypedDict("ImagesEmbed", {"$type": str, "images": list[Image]})
#: ``app.bsky.embed.external``.
ExternalEmbed = TypedDict("ExternalEmbed", {"$type": str, "external": External})
#: ``com.atproto.label.defs#selfLabels``.
SelfLabels = TypedDict("SelfLabels", {"$type": str, "values": list[dict[str, str]]})
#: ``app.bsky.feed.post``.
PostRecord = TypedDict(
    "PostRecord",
    {
        "$type": Required[str],
        "text": Required[str],
        "createdAt": Required[str],
        "facets": list[Facet],
        "langs": list[str],
        "reply": ReplyRef,
        "embed": ImagesEmbed | ExternalEmbed,
        "labels": SelfLabels,
    },
    total=False,
)


# --------------------------------------------------------------------------- answers


class Session(CamelPayload):
    """A session, as ``createSession``/``refreshSession`` answer and the state keeps it."""

    access_jwt: Text
    refresh_jwt: Text
    did: Text
    handle: Maybe[str]
    #: The handle and PDS it was made for (state only): another account's is not used.
    identifier: Maybe[str]
    service: Maybe[str]


class Created(Payload):
    """``com.atproto.repo.createRecord``: the new record's URI and CID."""

    uri: Maybe[str]
    cid: Maybe[str]


class _StrongRef(Payload):
    uri: Maybe[str]
    cid: Maybe[str]

    def ref(self) -> StrongRef | None:
        """``{"uri", "cid"}`` when both are there, as a reply names a post."""
        return {"uri": self.uri, "cid": self.cid} if self.uri and self.cid else None


class _Reply(Payload):
    root: Maybe[_StrongRef]
    parent: Maybe[_StrongRef]


class Post(CamelPayload):
    """The fields of an ``app.bsky.feed.post`` record the connector reads."""

    created_at: Maybe[str]
    text: Maybe[str]
    reply: Maybe[_Reply]


class Record(Created):
    """``com.atproto.repo.getRecord``."""

    value: Maybe[Post]


class Uploaded(Payload):
    """``com.atproto.repo.uploadBlob``: the blob, put as is into the image embed."""

    blob: Maybe[dict[str, object]]


class Resolved(Payload):
    """``com.atproto.identity.resolveHandle``."""

    did: Maybe[str]


class Posts(Payload):
    """``app.bsky.feed.getPosts``: post views, kept whole for ``Metrics.raw``."""

    posts: Items[dict[str, object]]


class PostView(CamelPayload):
    """The counts of a post view."""

    uri: Maybe[str]
    like_count: Maybe[int]
    repost_count: Maybe[int]
    reply_count: Maybe[int]
    quote_count: Maybe[int]
    bookmark_count: Maybe[int]


class Profile(CamelPayload):
    """``app.bsky.actor.getProfile``."""

    followers_count: Maybe[int]
    follows_count: Maybe[int]
    posts_count: Maybe[int]


class Actor(Payload):
    """An account: its DID and handle."""

    did: Maybe[Text]
    handle: Maybe[str]


class Notification(CamelPayload):
    """One of ``app.bsky.notification.listNotifications``."""

    uri: Maybe[str]
    cid: Maybe[str]
    reason: Maybe[str]
    reason_subject: Maybe[str]
    indexed_at: Maybe[str]
    author: Maybe[Actor]
    record: Maybe[Post]


class Notifications(Payload):
    """A page of notifications, newest first."""

    notifications: Items[Notification]
    cursor: Maybe[str]


class Followers(Payload):
    """A page of ``app.bsky.graph.getFollowers``."""

    followers: Items[Actor]
    cursor: Maybe[str]
