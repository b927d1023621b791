"""Bluesky over atproto XRPC (no SDK): sessions, facets, images, threads, metrics.

API pages used:

- https://docs.bsky.app/docs/api/com-atproto-server-create-session (and refresh-session)
- https://docs.bsky.app/docs/api/com-atproto-repo-create-record (get-record, delete-record,
  upload-blob)
- https://docs.bsky.app/docs/advanced-guides/post-richtext (facets, UTF-8 byte offsets)
- https://docs.bsky.app/docs/tutorials/creating-a-post (embeds, replies, link cards)
- https://atproto.com/specs/tid (record keys) and https://atproto.com/specs/xrpc (errors)
- https://docs.bsky.app/docs/api/app-bsky-feed-get-posts, .../app-bsky-actor-get-profile
- https://docs.bsky.app/docs/advanced-guides/rate-limits
- https://docs.bsky.app/docs/api/app-bsky-notification-list-notifications (``reasons``)
- https://docs.bsky.app/docs/api/app-bsky-graph-get-followers (cursor pagination)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import requests
from pydantic import SecretStr, field_validator

from connectors.base import (
    AccountMetrics,
    AuthError,
    Capability,
    ConnectorError,
    ConnectorSettings,
    ConnectorState,
    Extra,
    FollowerRef,
    InboxItem,
    InboxPage,
    Limits,
    MediaItem,
    Metrics,
    Published,
    Rejected,
    RenderedPost,
    ThreadPart,
    Transient,
)
from connectors.http import HttpClient, HttpConnector, Kind, Outcome, Verdict, summarise_body
from crosspost.text import (
    find_hashtags,
    find_mentions,
    find_urls,
    grapheme_length,
    utf8_length,
)

__all__ = ["BlueskyConnector", "rkey_for"]

POST_COLLECTION = "app.bsky.feed.post"
MAX_GRAPHEMES = 300
MAX_BYTES = 3000
#: Bytes one grapheme may take before the byte rule is the tighter one (3000 / 300).
_BYTES_PER_GRAPHEME = MAX_BYTES // MAX_GRAPHEMES
#: ``app.bsky.embed.images#image`` maxSize since April 2026 (was 1,000,000).
MAX_IMAGE_BYTES = 2_000_000
#: Notification reasons that are member-written content about us.
INBOX_REASONS = ("mention", "reply", "quote")
#: Pages of notifications (50 each) and of followers (100 each) read per call.
INBOX_PAGES = 5
#: ``app.bsky.feed.getPosts`` takes at most 25 ``uris``.
GET_POSTS_BATCH = 25
#: Self-label values the Bluesky app shows as content warnings.
SELF_LABELS = frozenset({"sexual", "nudity", "porn", "graphic-media"})
#: XRPC error names that mean "this session token is no good, get another one".
_RENEW = frozenset({"ExpiredToken", "InvalidToken"})
_NOT_FOUND = frozenset({"RecordNotFound", "InvalidRequest"})

_S32 = "234567abcdefghijklmnopqrstuvwxyz"
_TID_EPOCH_US = 1_672_531_200_000_000  # 2023-01-01T00:00:00Z
_TID_SPAN_BITS = 45  # about 13 months of microseconds: every derived TID lies in the past
_HANDLE_RE = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]*$")
_DID_RE = re.compile(r"^did:[a-z]+:[a-zA-Z0-9._:%-]+$")
_APP_PASSWORD_RE = re.compile(r"^[a-z0-9]{4}(?:-[a-z0-9]{4}){3}$")
_AT_URI_RE = re.compile(r"^at://(?P<repo>[^/]+)/(?P<collection>[^/]+)/(?P<rkey>[^/]+)$")


def rkey_for(idempotency_key: str) -> str:
    """A valid TID record key derived from ``idempotency_key`` alone.

    Every attempt of one publication writes to the same record key, and a repo
    holds one record per key, so a resend cannot make a second post. The time
    part is drawn from a past window, never the future.
    """
    digest = int.from_bytes(hashlib.sha256(idempotency_key.encode("utf-8")).digest()[:8], "big")
    micros = _TID_EPOCH_US + ((digest >> 10) & ((1 << _TID_SPAN_BITS) - 1))
    value = (micros << 10) | (digest & 0x3FF)
    return "".join(_S32[(value >> (5 * shift)) & 31] for shift in range(12, -1, -1))


def _byte_slice(text: str, start: int, end: int) -> dict[str, int]:
    """UTF-8 byte offsets of the code point slice ``text[start:end]``."""
    byte_start = utf8_length(text[:start])
    return {"byteStart": byte_start, "byteEnd": byte_start + utf8_length(text[start:end])}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_time(value: Any) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, GIF or JPEG, read from its header."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    if not data.startswith(b"\xff\xd8"):
        return None
    index = 2
    while index + 9 < len(data) and data[index] == 0xFF:
        marker = data[index + 1]
        length = int.from_bytes(data[index + 2 : index + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE):
            height = int.from_bytes(data[index + 5 : index + 7], "big")
            return int.from_bytes(data[index + 7 : index + 9], "big"), height
        index += 2 + length
    return None


def _error_name(response: requests.Response) -> str:
    """The XRPC ``error`` name of an error response, or ``""``."""
    try:
        body = response.json()
    except ValueError:
        return ""
    name = body.get("error") if isinstance(body, dict) else None
    return name if isinstance(name, str) else ""


def _describe(response: requests.Response) -> str:
    """``Name: message`` from an XRPC error body."""
    try:
        body = response.json()
    except ValueError:
        return summarise_body(response)
    if not isinstance(body, dict):
        return str(body)[:200]
    parts = [str(body[key]) for key in ("error", "message") if body.get(key)]
    return ": ".join(parts) or str(body)[:200]


class BlueskyConnector(HttpConnector["BlueskyConnector.Settings"]):
    """Publishes to one Bluesky account through its PDS, reads counts from the AppView."""

    name: ClassVar[str] = "bluesky"
    #: The record key is derived from the idempotency key: a repository holds one
    #: record per key, for good.
    idempotency_window: ClassVar[timedelta | None] = timedelta(days=365)
    docs_url: ClassVar[str] = "https://docs.bsky.app/docs/category/http-reference"
    limits: ClassVar[Limits] = Limits(
        max_length=MAX_GRAPHEMES,
        unit="graphemes",
        max_media=4,
        max_media_bytes=MAX_IMAGE_BYTES,
        media_types=frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"}),
        alt_text_required=True,
    )
    capabilities: frozenset[Capability] = frozenset(
        {
            Capability.THREADS,
            Capability.MEDIA,
            Capability.IDEMPOTENCY_KEY,
            Capability.RECONCILE,
            Capability.DELETE,
            Capability.INBOX,
            Capability.FOLLOWER_LIST,
        }
    )

    class Settings(ConnectorSettings):
        """The ``accounts:`` entry of a Bluesky account.

        Attributes:
            handle: the account's handle (``name.bsky.social``) or DID.
            app_password: an app password (``xxxx-xxxx-xxxx-xxxx``), never the account password.
            service: the PDS (or entryway) to log in to and write through.
            appview: optional public AppView for reads, e.g. ``https://public.api.bsky.app``;
                metrics then need no session.
        """

        handle: str
        app_password: SecretStr
        service: str = "https://bsky.social"
        appview: str | None = None

        @field_validator("handle")
        @classmethod
        def _valid_handle(cls, value: str) -> str:
            value = value.strip().removeprefix("@")
            if _DID_RE.match(value):
                return value
            if not _HANDLE_RE.match(value.lower()):
                raise ValueError("must be a handle like name.bsky.social or a DID like did:plc:…")
            return value.lower()

        @field_validator("app_password")
        @classmethod
        def _valid_app_password(cls, value: SecretStr) -> SecretStr:
            if not _APP_PASSWORD_RE.match(value.get_secret_value().strip()):
                raise ValueError(
                    "must be an app password (xxxx-xxxx-xxxx-xxxx) from Bluesky's Settings → "
                    "Privacy and security → App passwords, not the account password"
                )
            return SecretStr(value.get_secret_value().strip())

        @field_validator("service", "appview")
        @classmethod
        def _valid_url(cls, value: str | None) -> str | None:
            if value is None:
                return None
            value = value.strip().rstrip("/")
            local = re.match(r"^http://(localhost|127\.0\.0\.1)(:\d+)?$", value)
            if not (re.match(r"^https://[^/\s]+$", value) or local):
                raise ValueError("must be an https:// origin such as https://bsky.social")
            return value

    def __init__(
        self, account: str, settings: ConnectorSettings, state: ConnectorState | None = None
    ) -> None:
        super().__init__(account, settings, state)
        self._session: dict[str, str] | None = None
        self._dids: dict[str, str | None] = {}

    def _make_client(self) -> HttpClient:
        password = self.settings.app_password.get_secret_value()
        return HttpClient(
            self.name,
            self.account,
            base_url=self.settings.service,
            secrets=[password],
            describe=_describe,
            classify=self.classify,
        )

    # -- counting -------------------------------------------------------------

    def measure(self, text: str) -> int:
        """Graphemes, or UTF-8 bytes / 10 (rounded up) when that is larger.

        Bluesky refuses text over 300 graphemes *or* over 3000 bytes; this count
        is at most 300 exactly when both hold, so the core's splitter keeps
        every thread part within both rules. For text of up to 10 bytes per
        grapheme (every script and almost every emoji) it is the grapheme count.
        """
        return max(grapheme_length(text), -(-utf8_length(text) // _BYTES_PER_GRAPHEME))

    def _check_text(self, post: RenderedPost, limits: Limits) -> list[str]:
        """Both of Bluesky's rules, each reported in its own unit."""
        problems: list[str] = []
        for number, part in enumerate(post.parts, start=1):
            graphemes, size = grapheme_length(part), utf8_length(part)
            if graphemes > MAX_GRAPHEMES:
                problems.append(self._too_long(post, number, graphemes, MAX_GRAPHEMES, "graphemes"))
            if size > MAX_BYTES:
                problems.append(self._too_long(post, number, size, MAX_BYTES, "UTF-8 bytes"))
        return problems

    def _check_options(self, post: RenderedPost) -> list[str]:
        """A content warning must be one of Bluesky's self-labels."""
        problems: list[str] = []
        warning = post.content_warning.strip()
        if warning and warning not in SELF_LABELS:
            allowed = ", ".join(sorted(SELF_LABELS))
            problems.append(f"{self.name} has no free-text content warnings; use one of {allowed}")
        return problems

    # -- XRPC and the session -------------------------------------------------

    def _url(self, nsid: str, base: str | None = None) -> str:
        return f"{base or self.settings.service}/xrpc/{nsid}"

    def _xrpc(
        self,
        method: str,
        nsid: str,
        *,
        kind: Kind,
        ok: Sequence[int] = (),
        **kwargs: Any,
    ) -> requests.Response:
        """An authenticated call; an expired or invalid token is renewed and the call made again.

        Args:
            method: HTTP method.
            nsid: the XRPC method, e.g. ``com.atproto.repo.createRecord``.
            kind: what the call does (see :class:`~connectors.http.Kind`).
            ok: error statuses the caller handles itself.
            **kwargs: passed to ``requests``.
        """
        response = self._authed(method, nsid, kind, ok, kwargs)
        if self._token_refused(response):
            self._renew_session()
            response = self._authed(method, nsid, kind, ok, kwargs)
            if self._token_refused(response):
                raise self._auth_error(f"a fresh session was refused ({_describe(response)})")
        if not response.ok and response.status_code not in ok:
            raise self.http.failure(response, kind)
        return response

    def _authed(
        self, method: str, nsid: str, kind: Kind, ok: Sequence[int], kwargs: Mapping[str, Any]
    ) -> requests.Response:
        token = self._current_session()["accessJwt"]
        headers = {**kwargs.get("headers", {}), "Authorization": f"Bearer {token}"}
        return self.http.request(
            method,
            self._url(nsid),
            kind=kind,
            ok=(400, 401, *ok),
            **{**kwargs, "headers": headers},
        )

    @staticmethod
    def _token_refused(response: requests.Response) -> bool:
        return response.status_code in (400, 401) and _error_name(response) in _RENEW

    def _current_session(self) -> dict[str, str]:
        """The session in use: in memory, else saved in the state, else a new one."""
        if self._session is None:
            saved = self.state.load().get("session")
            if isinstance(saved, dict) and self._usable(saved):
                self._remember({str(k): str(v) for k, v in saved.items()})
            else:
                self._create_session()
        assert self._session is not None
        return self._session

    def _usable(self, saved: Mapping[str, Any]) -> bool:
        settings = self.settings
        return (
            all(isinstance(saved.get(k), str) for k in ("accessJwt", "refreshJwt", "did"))
            and saved.get("identifier") == settings.handle
            and saved.get("service") == settings.service
        )

    def _remember(self, session: dict[str, str], *, save: bool = False) -> None:
        self.http.add_secret(session["accessJwt"])
        self.http.add_secret(session["refreshJwt"])
        self._session = session
        if save:
            self.state.save({**self.state.load(), "session": session})

    def _store(self, response: requests.Response) -> None:
        body = self._object(response, Kind.HARMLESS_WRITE)
        session = {key: self._text(body, key) for key in ("accessJwt", "refreshJwt", "did")}
        session["handle"] = str(body.get("handle") or self.settings.handle)
        session["identifier"] = self.settings.handle
        session["service"] = self.settings.service
        self._remember(session, save=True)

    def _create_session(self) -> None:
        """Log in with the app password (rate-limited to 30 per 5 minutes: reuse sessions)."""
        settings = self.settings
        body = {
            "identifier": settings.handle,
            "password": settings.app_password.get_secret_value(),
        }
        response = self.http.request(
            "POST",
            self._url("com.atproto.server.createSession"),
            kind=Kind.HARMLESS_WRITE,
            ok=(400, 401),
            json=body,
        )
        if response.status_code in (400, 401):
            raise self._auth_error(f"Bluesky refused the app password ({_describe(response)})")
        self.log.info("created a new session")
        self._store(response)

    def _renew_session(self) -> None:
        """Refresh the session; if the refresh token is refused too, log in again."""
        refresh = (self._session or {}).get("refreshJwt", "")
        response = self.http.request(
            "POST",
            self._url("com.atproto.server.refreshSession"),
            kind=Kind.HARMLESS_WRITE,
            ok=(400, 401),
            headers={"Authorization": f"Bearer {refresh}"},
        )
        if response.ok:
            self.log.info("refreshed the session")
            self._store(response)
            return
        self.log.info("refresh refused (%s); logging in again", _error_name(response))
        self._session = None
        self._create_session()

    def _auth_error(self, reason: str) -> AuthError:
        handle = self.settings.handle
        message = (
            f"cannot sign in as {handle}: {reason}. Create a new app password in Bluesky "
            f"(Settings → Privacy and security → App passwords) and set it as app_password "
            f"of account {self.account!r}"
        )
        return self.http.error(AuthError, message)

    def classify(self, response: requests.Response) -> Verdict | None:
        """XRPC error names: an expired or invalid token is a refused credential."""
        if response.status_code == 400 and _error_name(response) in _RENEW:
            return Verdict(Outcome.AUTH, f"session refused: {_describe(response)}", 400)
        return None

    def _object(self, response: requests.Response, kind: Kind = Kind.READ) -> dict[str, Any]:
        return self.http.json_object(response, kind)

    def _text(self, body: Mapping[str, Any], key: str, kind: Kind = Kind.READ) -> str:
        value = body.get(key)
        if not isinstance(value, str) or not value:
            raise self.http.unreadable(f"the answer has no {key!r}", kind)
        return value

    # -- publishing -----------------------------------------------------------

    def _publish_part(self, post: RenderedPost, part: ThreadPart) -> Published:
        """Create one post record at the record key derived from the idempotency key."""
        index, text, reply_to, root, idempotency_key = (
            part.index,
            part.text,
            part.reply_to,
            part.root,
            part.idempotency_key,
        )
        session = self._current_session()
        record = self._record(post, index, text, reply_to, root)
        rkey = rkey_for(idempotency_key)
        body = {
            "repo": session["did"],
            "collection": POST_COLLECTION,
            "rkey": rkey,
            "validate": True,
            "record": record,
        }
        try:
            response = self._xrpc(
                "POST", "com.atproto.repo.createRecord", kind=Kind.KEYED_WRITE, json=body
            )
        except (Rejected, Transient) as error:
            # A resend lands on the same key: the PDS refuses it, and the earlier one is the post.
            existing = self._existing(rkey, error)
            if existing is None:
                raise
            self.log.info("record %s already existed; not posted twice", rkey)
            return existing
        created = self._object(response, Kind.KEYED_WRITE)
        uri, cid = (
            self._text(created, "uri", Kind.KEYED_WRITE),
            self._text(created, "cid", Kind.KEYED_WRITE),
        )
        return self._published(uri, cid, record["createdAt"])

    def _existing(self, rkey: str, error: ConnectorError) -> Published | None:
        if error.status is None or error.status in (401, 403, 429):
            return None
        try:
            return self._get_post(rkey)
        except ConnectorError:
            return None

    def _published(self, uri: str, cid: str, created_at: Any) -> Published:
        match = _AT_URI_RE.match(uri)
        handle = self._current_session().get("handle") or self._current_session()["did"]
        url = f"https://bsky.app/profile/{handle}/post/{match['rkey']}" if match else None
        return Published(
            remote_id=uri,
            url=url,
            published_at=_parse_time(created_at),
            extra={"cid": cid, "rkey": match["rkey"] if match else ""},
        )

    def _record(
        self,
        post: RenderedPost,
        index: int,
        text: str,
        reply_to: Published | None,
        root: Published | None,
    ) -> dict[str, Any]:
        record: dict[str, Any] = {"$type": POST_COLLECTION, "text": text, "createdAt": _now()}
        facets = self._facets(text)
        if facets:
            record["facets"] = facets
        if post.language:
            record["langs"] = [post.language]
        if reply_to is not None and root is not None:
            record["reply"] = {"root": self._ref(root), "parent": self._ref(reply_to)}
        embed = self._embed(post) if index == 0 else None
        if embed:
            record["embed"] = embed
        warning = post.content_warning.strip()
        if warning:
            record["labels"] = {
                "$type": "com.atproto.label.defs#selfLabels",
                "values": [{"val": warning}],
            }
        return record

    @staticmethod
    def _ref(published: Published) -> dict[str, str]:
        return {"uri": published.remote_id, "cid": str(published.extra.get("cid", ""))}

    # -- rich text ------------------------------------------------------------

    def _facets(self, text: str) -> list[dict[str, Any]]:
        """Link, mention and hashtag facets with UTF-8 byte offsets, in text order."""
        found: list[tuple[int, int, dict[str, str]]] = []
        for span in find_urls(text):
            found.append(
                (span.start, span.end, {"$type": "app.bsky.richtext.facet#link", "uri": span.text})
            )
        for span in find_mentions(text):
            did = self._resolve(span.text[1:])
            if did:
                found.append(
                    (span.start, span.end, {"$type": "app.bsky.richtext.facet#mention", "did": did})
                )
        for span in find_hashtags(text):
            tag = span.text[1:]
            if grapheme_length(tag) <= 64 and utf8_length(tag) <= 640:
                found.append(
                    (span.start, span.end, {"$type": "app.bsky.richtext.facet#tag", "tag": tag})
                )
        found.sort(key=lambda item: item[0])
        return [
            {"index": _byte_slice(text, start, end), "features": [feature]}
            for start, end, feature in found
        ]

    def _resolve(self, handle: str) -> str | None:
        """The DID of ``handle``, or None when it is no Bluesky handle or does not resolve."""
        handle = handle.lower()
        if "@" in handle or not _HANDLE_RE.match(handle):
            return None  # a fediverse address or a bare @word
        if handle not in self._dids:
            response = self._read(
                "com.atproto.identity.resolveHandle", params={"handle": handle}, ok=(400, 404)
            )
            did = None
            if response.ok:
                value = self._object(response).get("did")
                did = value if isinstance(value, str) and value.startswith("did:") else None
            self._dids[handle] = did
        return self._dids[handle]

    # -- embeds ---------------------------------------------------------------

    def _embed(self, post: RenderedPost) -> dict[str, Any] | None:
        if post.media:
            images = [self._image(item) for item in post.media]
            return {"$type": "app.bsky.embed.images", "images": images}
        if post.link:
            external = {
                "uri": post.link,
                "title": post.title,
                "description": str(post.options.get("description", "")),
            }
            return {"$type": "app.bsky.embed.external", "external": external}
        return None

    def _image(self, item: MediaItem) -> dict[str, Any]:
        try:
            data = item.path.read_bytes()
        except OSError as error:
            raise self.error(
                Rejected, f"{item.path.name}: cannot read the file ({error.strerror})"
            ) from None
        # An unreferenced blob is garbage-collected by the PDS: the upload is harmless.
        response = self._xrpc(
            "POST",
            "com.atproto.repo.uploadBlob",
            kind=Kind.HARMLESS_WRITE,
            data=data,
            headers={"Content-Type": item.mime_type},
        )
        blob = self._object(response, Kind.HARMLESS_WRITE).get("blob")
        if not isinstance(blob, dict):
            message = "the blob upload answer has no 'blob'"
            raise self.http.unreadable(message, Kind.HARMLESS_WRITE)
        image: dict[str, Any] = {"image": blob, "alt": item.alt}
        size = _image_size(data)
        if size and all(size):
            image["aspectRatio"] = {"width": size[0], "height": size[1]}
        return image

    # -- reading back ---------------------------------------------------------

    def _read(self, nsid: str, *, ok: Sequence[int] = (), **kwargs: Any) -> requests.Response:
        """A public read: from the AppView when one is set (no session), else through the PDS."""
        appview = self.settings.appview
        if appview:
            url = self._url(nsid, appview)
            return self.http.request("GET", url, kind=Kind.READ, ok=ok, **kwargs)
        return self._xrpc("GET", nsid, kind=Kind.READ, ok=ok, **kwargs)

    def _read_own(self, nsid: str, **kwargs: Any) -> requests.Response:
        """A read of this account's own data, through the PDS with the session."""
        return self._xrpc("GET", nsid, kind=Kind.READ, **kwargs)

    def _get_post(self, rkey: str) -> Published | None:
        """The post record at ``rkey`` in this account's repo, or None."""
        params = {
            "repo": self._current_session()["did"],
            "collection": POST_COLLECTION,
            "rkey": rkey,
        }
        response = self._read_own("com.atproto.repo.getRecord", ok=(400, 404), params=params)
        if not response.ok:
            if _error_name(response) in _NOT_FOUND:
                return None
            raise self.http.failure(response, Kind.READ)
        body = self._object(response)
        value = body.get("value")
        created = value.get("createdAt") if isinstance(value, dict) else None
        return self._published(self._text(body, "uri"), self._text(body, "cid"), created)

    def find_recent(self, idempotency_key: str, text: str) -> Published | None:
        """The post (and thread replies) written at the key's record keys, or None."""
        first = self._get_post(rkey_for(idempotency_key))
        if first is None:
            return None
        ids = [first.remote_id]
        for index in range(1, 100):
            part = self._get_post(rkey_for(f"{idempotency_key}-{index}"))
            if part is None:
                break
            ids.append(part.remote_id)
        return Published(first.remote_id, first.url, first.published_at, tuple(ids), first.extra)

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        """Counts from ``app.bsky.feed.getPosts``, 25 posts a call; unknown posts are left out."""
        result: dict[str, Metrics] = {}
        ids = list(dict.fromkeys(remote_ids))
        for start in range(0, len(ids), GET_POSTS_BATCH):
            batch = ids[start : start + GET_POSTS_BATCH]
            response = self._read("app.bsky.feed.getPosts", params={"uris": batch})
            posts = self._object(response).get("posts")
            for view in posts if isinstance(posts, list) else []:
                if isinstance(view, dict) and isinstance(view.get("uri"), str):
                    result[view["uri"]] = self._metrics(view)
        return result

    @staticmethod
    def _metrics(view: Mapping[str, Any]) -> Metrics:
        def count(key: str) -> int | None:
            value = view.get(key)
            return value if isinstance(value, int) else None

        return Metrics(
            likes=count("likeCount"),
            reposts=count("repostCount"),
            replies=count("replyCount"),
            quotes=count("quoteCount"),
            bookmarks=count("bookmarkCount"),
            raw=dict(view),
        )

    def account_metrics(self) -> AccountMetrics:
        """Followers, follows and posts from ``app.bsky.actor.getProfile``."""
        actor = self.settings.handle
        if not self.settings.appview:
            actor = self._current_session()["did"]
        profile = self._object(self._read("app.bsky.actor.getProfile", params={"actor": actor}))

        def count(key: str) -> int | None:
            value = profile.get(key)
            return value if isinstance(value, int) else None

        return AccountMetrics(
            followers=count("followersCount"),
            following=count("followsCount"),
            posts=count("postsCount"),
            raw=profile,
        )

    def delete(self, remote_id: str, extra: Extra | None = None) -> None:
        """Delete a post of this account by its ``at://`` URI (deleting twice is harmless)."""
        match = _AT_URI_RE.match(remote_id)
        did = self._current_session()["did"]
        if not match or match["collection"] != POST_COLLECTION:
            raise self.error(Rejected, f"not a Bluesky post URI: {remote_id}")
        if match["repo"] not in (did, self._current_session().get("handle")):
            raise self.error(Rejected, f"{remote_id} belongs to another account")
        body = {"repo": did, "collection": POST_COLLECTION, "rkey": match["rkey"]}
        self._xrpc("POST", "com.atproto.repo.deleteRecord", kind=Kind.HARMLESS_WRITE, json=body)

    # -- inbox and followers --------------------------------------------------

    def fetch_inbox(self, cursor: str | None) -> InboxPage:
        """Mentions, replies and quotes newer than ``cursor`` (``indexedAt|cid`` of the newest).

        ``app.bsky.notification.listNotifications`` lists newest first; pages are
        followed back until the notification the cursor names, at most
        :data:`INBOX_PAGES` pages.

        Raises:
            AuthError, RateLimited, Transient.
        """
        seen_at, _, seen_cid = (cursor or "").partition("|")
        own_did = self._current_session()["did"]
        items: list[InboxItem] = []
        newest, page_cursor = cursor, None
        for _page in range(INBOX_PAGES):
            params: dict[str, Any] = {"limit": 50, "reasons": list(INBOX_REASONS)}
            if page_cursor:
                params["cursor"] = page_cursor
            nsid = "app.bsky.notification.listNotifications"
            body = self._object(self._read_own(nsid, params=params))
            notifications = [n for n in body.get("notifications") or [] if isinstance(n, dict)]
            for note in notifications:
                at, cid = str(note.get("indexedAt") or ""), str(note.get("cid") or "")
                if cursor and (at < seen_at or (at == seen_at and cid == seen_cid)):
                    return InboxPage(tuple(items), newest)
                if newest == cursor:  # the first (newest) notification seen
                    newest = f"{at}|{cid}"
                item = _inbox_item(note, own_did)
                if item is not None:
                    items.append(item)
            page_cursor = body.get("cursor")
            if not notifications or not isinstance(page_cursor, str):
                break
        return InboxPage(tuple(items), newest)

    def followers(self, limit: int) -> list[FollowerRef]:
        """At most ``limit`` followers from ``app.bsky.graph.getFollowers`` (100 a page).

        Raises:
            AuthError, RateLimited, Transient.
        """
        actor = self.settings.handle
        if not self.settings.appview:
            actor = self._current_session()["did"]
        found: list[FollowerRef] = []
        page_cursor: str | None = None
        while len(found) < limit:
            params = {
                "actor": actor,
                "limit": 100,
                **({"cursor": page_cursor} if page_cursor else {}),
            }
            body = self._object(self._read("app.bsky.graph.getFollowers", params=params))
            page = [f for f in body.get("followers") or [] if isinstance(f, dict) and f.get("did")]
            found += [FollowerRef(str(f["did"]), "@" + str(f.get("handle") or "")) for f in page]
            page_cursor = body.get("cursor") if isinstance(body.get("cursor"), str) else None
            if not page or page_cursor is None:
                break
        return found[:limit]


def _inbox_item(note: Mapping[str, Any], own_did: str) -> InboxItem | None:
    """An :class:`InboxItem` from a member's mention, reply or quote; None for anything else.

    The ``reasons`` filter of the request is not trusted alone (a server may
    ignore it): likes, reposts and follows are not member-written content, and
    the account's own posts (its thread parts) are not a member's.
    """
    author, record = note.get("author"), note.get("record")
    uri, reason = note.get("uri"), note.get("reason")
    if not isinstance(author, dict) or not isinstance(record, dict) or not isinstance(uri, str):
        return None
    if reason not in INBOX_REASONS or author.get("did") == own_did:
        return None
    try:
        created = _parse_time(record.get("createdAt") or note.get("indexedAt"))
    except (ValueError, TypeError):
        return None
    handle = str(author.get("handle") or "")
    match = _AT_URI_RE.match(uri)
    url = f"https://bsky.app/profile/{handle}/post/{match['rkey']}" if match else None
    return InboxItem(
        remote_id=uri,
        kind=str(reason),
        author="@" + handle,
        author_id=str(author.get("did") or "") or None,
        text=str(record.get("text") or ""),
        url=url,
        created_at=created,
        in_reply_to=_answered(note, record),
        raw={"cid": note.get("cid"), "reason": reason, "indexedAt": note.get("indexedAt")},
    )


def _answered(note: Mapping[str, Any], record: Mapping[str, Any]) -> str | None:
    """The URI of the post a reply answers or a quote embeds (``reasonSubject`` first)."""
    subject = note.get("reasonSubject")
    if isinstance(subject, str) and note.get("reason") in ("reply", "quote"):
        return subject
    reply = record.get("reply")
    parent = reply.get("parent") if isinstance(reply, dict) else None
    if isinstance(parent, dict) and isinstance(parent.get("uri"), str):
        return str(parent["uri"])
    return None
