"""The connector contract: what every platform module provides and may raise.

A connector turns one :class:`RenderedPost` into one post (or thread) on one
account of one platform, and reads back what the platform says about it.

Error tree (connectors raise nothing else)::

    ConnectorError
    ├── AuthError        credentials missing, expired or revoked; never retried
    ├── RateLimited      come back at ``retry_at``; the account pauses, others go on
    ├── Rejected         the platform refused this content; never retried as is
    ├── Transient        the request certainly did not take effect; safe to retry
    └── Unknown          the request may have taken effect; never retried blindly

The rule that decides between ``Transient`` and ``Unknown`` is "could the
platform have acted on it?": a refused connection is ``Transient``, a read
timeout after a POST is ``Unknown`` unless the platform honours an idempotency
key that was sent with it.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Generic, Protocol, TypeVar, cast, runtime_checkable

from pydantic import BaseModel, ConfigDict

from crosspost.markdown import INLINE_HTML_TAGS, LinkSpan, TextFormat
from crosspost.text import grapheme_length

__all__ = [
    "AccountMetrics",
    "AuthError",
    "BaseConnector",
    "Capability",
    "Connector",
    "ConnectorError",
    "ConnectorSettings",
    "ConnectorState",
    "FileState",
    "Extra",
    "FollowerList",
    "FollowerRef",
    "Inbox",
    "InboxItem",
    "InboxPage",
    "Limits",
    "MediaItem",
    "MemoryState",
    "Metrics",
    "Poll",
    "Published",
    "Reconcilable",
    "SettingsT",
    "ThreadPart",
    "RateLimited",
    "Rejected",
    "RenderedPost",
    "Transient",
    "Unknown",
]


# --------------------------------------------------------------------------- errors


#: What a connector put in ``Published.extra``, kept with the publication and given back.
Extra = Mapping[str, Any]


class ConnectorError(Exception):
    """Base of every error a connector raises.

    Args:
        message: what happened, in words a user can act on; never a secret.
        platform: connector name, e.g. ``"mastodon"``.
        account: the account alias from ``schedule.yaml``.
        status: HTTP status (or platform error code) when there was one.
    """

    #: Whether the dispatcher may try the same publication again later.
    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        platform: str = "",
        account: str = "",
        status: int | None = None,
        partial: Published | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.platform = platform
        self.account = account
        self.status = status
        #: The posts of a thread that went out before this error stopped it.
        self.partial = partial

    def __str__(self) -> str:
        where = "/".join(part for part in (self.platform, self.account) if part)
        status = f" (HTTP {self.status})" if self.status else ""
        return f"{where}: {self.message}{status}" if where else self.message + status


class AuthError(ConnectorError):
    """The account's credentials do not work; a person has to renew them."""


class RateLimited(ConnectorError):
    """The platform asked us to slow down until ``retry_at`` (UTC)."""

    retryable = True

    def __init__(self, message: str, *, retry_at: datetime, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_at = retry_at


class Rejected(ConnectorError):
    """The platform refused the content itself (too long, duplicate, bad media)."""

    def __init__(self, reason: str, **kwargs: Any) -> None:
        super().__init__(reason, **kwargs)
        self.reason = reason


class Transient(ConnectorError):
    """A failure that certainly did not publish anything; retry later."""

    retryable = True


class Unknown(ConnectorError):
    """The request may have reached the platform; reconcile, do not resend."""


# --------------------------------------------------------------------------- values


class Capability(enum.StrEnum):
    """Optional abilities a connector declares instead of letting callers guess."""

    #: Long text can be published as a chain of replies.
    THREADS = "threads"
    #: Native polls.
    POLLS = "polls"
    #: Images with alt text.
    MEDIA = "media"
    #: The platform takes an idempotency key, so a resend cannot duplicate.
    IDEMPOTENCY_KEY = "idempotency_key"
    #: ``find_recent`` can tell whether an uncertain publish went through.
    RECONCILE = "reconcile"
    #: Mentions and replies can be read back (member-written content).
    INBOX = "inbox"
    #: The follower list can be read, so joins and leaves are exact.
    FOLLOWER_LIST = "follower_list"
    #: Published posts can be deleted (`crosspost retract`).
    DELETE = "delete"


@dataclass(frozen=True)
class Limits:
    """What a platform accepts, as the connector counts it.

    ``max_length`` is in the unit named by ``unit``; the connector's
    ``measure()`` applies the platform's own counting rules.
    """

    max_length: int
    unit: str = "characters"
    max_media: int = 0
    max_media_bytes: int = 0
    media_types: frozenset[str] = frozenset()
    alt_text_max: int = 0
    alt_text_required: bool = False
    max_poll_options: int = 0
    max_poll_option_length: int = 0
    #: Length limit of text attached to media (Telegram captions), 0 = same.
    max_caption_length: int = 0


@dataclass(frozen=True)
class MediaItem:
    """One file to attach, with the alt text that describes it."""

    path: Path
    alt: str = ""
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Poll:
    """A native poll attached to a post."""

    options: tuple[str, ...]
    duration: timedelta = timedelta(days=1)
    multiple: bool = False


@dataclass(frozen=True)
class RenderedPost:
    """One post, rendered for one platform, ready to send.

    ``parts`` holds the text of every post of a thread in order; a plain post
    has one part. Media and the poll go with the first part.
    """

    parts: tuple[str, ...]
    content_id: str = ""
    title: str = ""
    link: str | None = None
    media: tuple[MediaItem, ...] = ()
    poll: Poll | None = None
    content_warning: str = ""
    language: str | None = None
    #: Per-platform options from the content's overrides (visibility, …).
    options: Mapping[str, Any] = field(default_factory=dict)
    #: Links over each part's text, for connectors whose ``text_format`` is rich text;
    #: empty otherwise (and when the text has no Markdown links).
    links: tuple[tuple[LinkSpan, ...], ...] = ()

    @property
    def text(self) -> str:
        """The text of the first (or only) post."""
        return self.parts[0] if self.parts else ""


@dataclass(frozen=True)
class ThreadPart:
    """One post of a thread, as :meth:`BaseConnector._publish_part` sends it."""

    #: 0 for the first post, which carries media and poll.
    index: int
    text: str
    #: The post before this one; None for the first.
    reply_to: Published | None
    #: The first post of the thread; None for the first.
    root: Published | None
    #: The publication's key for the first post, ``<key>-<index>`` for later ones.
    idempotency_key: str


@dataclass(frozen=True)
class Published:
    """What the platform gave back for a successful publish."""

    remote_id: str
    url: str | None
    published_at: datetime
    #: Remote ids of every post of a thread, first included.
    thread_ids: tuple[str, ...] = ()
    #: Platform-specific references a reply needs (e.g. a Bluesky ``cid``).
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Metrics:
    """Reactions to one post at one moment; ``None`` where the platform has no such count."""

    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    quotes: int | None = None
    views: int | None = None
    bookmarks: int | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AccountMetrics:
    """Audience figures of one account at one moment."""

    followers: int | None = None
    following: int | None = None
    posts: int | None = None
    members: int | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InboxItem:
    """Something a member wrote to the account: a mention, a reply, a quote or a comment.

    ``in_reply_to`` is the remote id of the post it answers (or quotes), in the
    same form ``publish`` returns, so it can be matched to a publication.
    """

    remote_id: str
    kind: str  # mention | reply | quote | comment
    author: str
    author_id: str | None
    text: str
    url: str | None
    created_at: datetime
    in_reply_to: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InboxPage:
    """What ``fetch_inbox`` read, and where to start next time (``None``: nothing new)."""

    items: tuple[InboxItem, ...]
    cursor: str | None


@dataclass(frozen=True)
class FollowerRef:
    """One follower of the account: a stable platform id and the handle shown for it."""

    id: str
    handle: str = ""


# --------------------------------------------------------------------------- settings


class ConnectorSettings(BaseModel):
    """Base of every connector's account settings (the ``accounts:`` entry).

    Secrets are declared as ``pydantic.SecretStr`` so that they never show in
    ``repr``, logs or dumps. Unknown keys are an error, so typos are caught by
    ``crosspost check``.
    """

    # hide_input_in_errors: a validation error must never echo a token back
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


# --------------------------------------------------------------------------- state


class ConnectorState(Protocol):
    """Small per-account key/value store for tokens that rotate (sessions, refresh tokens).

    Kept out of the database on purpose: the core stores no secrets.
    """

    def load(self) -> dict[str, Any]:
        """Return what was saved last, or an empty dict."""
        ...

    def save(self, data: Mapping[str, Any]) -> None:
        """Replace what is saved, atomically."""
        ...

    def update(self, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """Load, ``change`` in place and save, with no other update in between; the result."""
        ...


#: One lock per state (file path or memory object): the publisher and the collector
#: threads of one connector may both write it.
_STATE_LOCKS: dict[object, threading.Lock] = {}
_STATE_LOCKS_GUARD = threading.Lock()


def _lock_for(key: object) -> threading.Lock:
    with _STATE_LOCKS_GUARD:
        return _STATE_LOCKS.setdefault(key, threading.Lock())


class _Updating:
    """``update`` for states that have ``load``, ``save`` and a lock key."""

    def _lock_key(self) -> object:
        return id(self)

    def load(self) -> dict[str, Any]:
        raise NotImplementedError

    def save(self, data: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def update(self, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        with _lock_for(self._lock_key()):
            data = self.load()
            change(data)
            self.save(data)
            return data


class MemoryState(_Updating):
    """A :class:`ConnectorState` that lives as long as the process (tests, dry runs)."""

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data: dict[str, Any] = dict(data or {})

    def load(self) -> dict[str, Any]:
        return dict(self._data)

    def save(self, data: Mapping[str, Any]) -> None:
        self._data = dict(data)

    def __repr__(self) -> str:
        return f"MemoryState(keys={sorted(self._data)})"


class FileState(_Updating):
    """A :class:`ConnectorState` kept in one JSON file readable only by its owner."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _lock_key(self) -> object:
        return str(self.path.resolve())

    def load(self) -> dict[str, Any]:
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        return loaded if isinstance(loaded, dict) else {}

    def save(self, data: Mapping[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".state-")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(dict(data), handle)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def __repr__(self) -> str:
        return f"FileState({self.path.name!r})"


# --------------------------------------------------------------------------- protocol


@runtime_checkable
class Connector(Protocol):
    """What the core needs from a platform module.

    Instances are built with ``Cls(account, settings, state)`` where
    ``settings`` is an instance of ``Cls.Settings``.

    Optional abilities are protocols of their own, checked with ``isinstance``
    where they are used: :class:`Reconcilable` (``find_recent`` and
    ``idempotency_window``), :class:`Inbox` (``fetch_inbox``) and
    :class:`FollowerList` (``followers``). A connector has the ability when it
    has the methods AND its account's ``capabilities`` name it.

    Optional for connectors whose server reports its own limits (a Mastodon instance):

    - ``reported_limits() -> dict[str, Any] | None``: what the server reported in this
      process, as JSON-ready data, or ``None``. The core keeps it in the store.
    - ``use_reported_limits(data: Mapping[str, Any]) -> None``: count with what the
      server reported in an earlier run (``effective_limits`` reflects it), until the
      server is asked again. ``check`` and ``plan`` never ask; they use this.
    """

    name: ClassVar[str]
    limits: ClassVar[Limits]
    #: What this account can do (the class's manifest, narrowed by its settings).
    capabilities: frozenset[Capability]
    Settings: ClassVar[type[ConnectorSettings]]

    @property
    def effective_limits(self) -> Limits:
        """The limits in force for this account (an instance may differ from the defaults)."""
        ...

    def measure(self, text: str) -> int:
        """Length of ``text`` in ``limits.unit``, by the platform's own rules."""
        ...

    def check(self, post: RenderedPost) -> list[str]:
        """Every reason the platform would refuse ``post``; sends nothing."""
        ...

    def publish(self, post: RenderedPost, idempotency_key: str) -> Published:
        """Publish ``post``; the key is the same for every attempt of one publication.

        Raises:
            AuthError, RateLimited, Rejected, Transient, Unknown.
        """
        ...

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        """Reactions for each id, batched where the API allows; unknown ids are left out."""
        ...

    def account_metrics(self) -> AccountMetrics:
        """Followers, following, posts or members of the account."""
        ...

    def delete(self, remote_id: str, extra: Extra | None = None) -> None:
        """Delete a published post."""
        ...


@runtime_checkable
class Reconcilable(Protocol):
    """A connector that can look for a post whose outcome is unknown (``RECONCILE``)."""

    #: How long the platform remembers an idempotency key: within it, a publication
    #: whose outcome is unknown may be sent again with the same key. None: never.
    idempotency_window: timedelta | None

    def find_recent(self, idempotency_key: str, text: str) -> Published | None:
        """Look for a post this key or text produced lately, else None."""
        ...


@runtime_checkable
class Inbox(Protocol):
    """A connector that reads mentions and replies (``Capability.INBOX``)."""

    def fetch_inbox(self, cursor: str | None) -> InboxPage:
        """Mentions and replies newer than ``cursor`` (opaque; None on the first call)."""
        ...


@runtime_checkable
class FollowerList(Protocol):
    """A connector that lists the account's followers (``Capability.FOLLOWER_LIST``)."""

    def followers(self, limit: int) -> list[FollowerRef]:
        """At most ``limit`` followers; a list of exactly ``limit`` may be cut short."""
        ...


# --------------------------------------------------------------------------- base class

_E = TypeVar("_E", bound=ConnectorError)
#: The settings model of a connector: ``BaseConnector["MyConnector.Settings"]``.
SettingsT = TypeVar("SettingsT", bound=ConnectorSettings)


class BaseConnector(Generic[SettingsT]):
    """Shared behaviour of the built-in connectors (template method).

    Subclasses set the class attributes and implement ``_publish``; the public
    ``publish`` checks the post against the limits first, so that nothing the
    platform would refuse for its size is ever sent.
    """

    name: ClassVar[str] = ""
    limits: ClassVar[Limits] = Limits(max_length=0)
    capabilities: frozenset[Capability] = frozenset()
    Settings: ClassVar[type[ConnectorSettings]] = ConnectorSettings
    #: Link to the platform's API documentation used to write the connector.
    docs_url: ClassVar[str] = ""
    #: The form Markdown bodies are rendered in for this platform (crosspost.markdown).
    text_format: ClassVar[TextFormat] = TextFormat.PLAIN
    #: The HTML tags the platform accepts, when ``text_format`` is HTML.
    html_tags: ClassVar[frozenset[str]] = INLINE_HTML_TAGS
    #: How long the platform remembers an idempotency key: within it, a publication
    #: whose outcome is unknown may be sent again with the same key and cannot
    #: duplicate. None: never resend by itself.
    idempotency_window: ClassVar[timedelta | None] = None

    def __init__(
        self,
        account: str,
        settings: ConnectorSettings,
        state: ConnectorState | None = None,
    ) -> None:
        if not isinstance(settings, self.Settings):
            raise TypeError(f"{type(self).__name__} needs {type(self).__name__}.Settings")
        self.account = account
        #: The account's settings, typed as the connector's own model.
        self.settings: SettingsT = cast(SettingsT, settings)
        self.capabilities = self.capabilities_for(settings)
        self.state: ConnectorState = state if state is not None else MemoryState()
        self.log = logging.getLogger(f"crosspost.connectors.{self.name}[@{account}]")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(account={self.account!r})"

    def error(self, cls: type[_E], message: str, status: int | None = None, **extra: Any) -> _E:
        """The one way to build an error of this account (connectors over HTTP mask secrets)."""
        return cls(message, platform=self.name, account=self.account, status=status, **extra)

    def unable(self, what: str) -> Rejected:
        """The refusal of an ability this account lacks (e.g. an inbox in webhook mode)."""
        return self.error(Rejected, f"{self.name} account {self.account!r} has no {what}")

    @classmethod
    def capabilities_for(cls, settings: ConnectorSettings) -> frozenset[Capability]:
        """What an account with ``settings`` can do; the manifest unless a mode narrows it."""
        return cls.capabilities

    # -- limits ---------------------------------------------------------------

    @property
    def effective_limits(self) -> Limits:
        """The limits in force for this account (an instance may raise the defaults)."""
        return self.limits

    def measure(self, text: str) -> int:
        """Length in grapheme clusters, the most common platform unit."""
        return grapheme_length(text)

    def check(self, post: RenderedPost) -> list[str]:
        """Every reason this post would be refused, without sending anything.

        One hook per rule, each overridable on its own: ``_check_text``,
        ``_check_media``, ``_check_poll`` and ``_check_options``.
        """
        limits = self.effective_limits
        problems = self._check_text(post, limits)
        if len(post.parts) > 1 and Capability.THREADS not in self.capabilities:
            problems.append(f"{self.name} cannot publish threads")
        problems.extend(self._check_media(post, limits))
        problems.extend(self._check_poll(post, limits))
        problems.extend(self._check_options(post))
        return problems

    def _check_text(self, post: RenderedPost, limits: Limits) -> list[str]:
        """Each part against the text limit (the caption limit too when media go along)."""
        text_limit = limits.max_length
        if post.media and limits.max_caption_length:
            text_limit = min(text_limit, limits.max_caption_length)
        lengths = [self.measure(part) for part in post.parts]
        return [
            self._too_long(post, number, length, text_limit, limits.unit)
            for number, length in enumerate(lengths, start=1)
            if text_limit and length > text_limit
        ]

    def _too_long(
        self,
        post: RenderedPost,
        number: int,
        length: int,
        limit: int,
        unit: str,
        *,
        what: str = "text",
    ) -> str:
        """The one message for a part over a limit: ``part 2 text is 510 graphemes long …``."""
        label = f"part {number} " if len(post.parts) > 1 else ""
        return f"{label}{what} is {length} {unit} long (at most {limit} on {self.name})"

    def _check_options(self, post: RenderedPost) -> list[str]:
        """The platform's own ``options:`` and settings of the post; none by default."""
        return []

    def _check_media(self, post: RenderedPost, limits: Limits) -> list[str]:
        if not post.media:
            return []
        if limits.max_media == 0:
            return [f"{self.name} takes no media here"]
        problems = []
        if len(post.media) > limits.max_media:
            problems.append(
                f"{len(post.media)} media files (at most {limits.max_media} on {self.name})"
            )
        for item in post.media:
            problems.extend(self._check_media_item(item, limits))
        return problems

    def _check_media_item(self, item: MediaItem, limits: Limits) -> list[str]:
        problems = []
        if limits.media_types and item.mime_type not in limits.media_types:
            allowed = ", ".join(sorted(limits.media_types))
            problems.append(f"{item.path.name}: type {item.mime_type} (expected {allowed})")
        if limits.alt_text_required and not item.alt.strip():
            problems.append(f"{item.path.name}: alt text is missing")
        if limits.alt_text_max and grapheme_length(item.alt) > limits.alt_text_max:
            problems.append(
                f"{item.path.name}: alt text is longer than {limits.alt_text_max} characters"
            )
        try:
            size = item.path.stat().st_size
        except OSError:
            return [*problems, f"{item.path}: file not found"]
        if limits.max_media_bytes and size > limits.max_media_bytes:
            problems.append(f"{item.path.name}: {size} bytes (at most {limits.max_media_bytes})")
        return problems

    def _check_poll(self, post: RenderedPost, limits: Limits) -> list[str]:
        if post.poll is None:
            return []
        if Capability.POLLS not in self.capabilities:
            return [f"{self.name} has no polls"]
        problems = []
        options = post.poll.options
        if limits.max_poll_options and len(options) > limits.max_poll_options:
            problems.append(f"poll has {len(options)} options (at most {limits.max_poll_options})")
        longest = limits.max_poll_option_length
        for option in options:
            if longest and grapheme_length(option) > longest:
                problems.append(f"poll option {option!r} is longer than {longest}")
        return problems

    # -- the contract ---------------------------------------------------------

    def publish(self, post: RenderedPost, idempotency_key: str) -> Published:
        """Check the post against the limits, then hand it to ``_publish``.

        Raises:
            Rejected: the post breaks a limit; nothing was sent.
            AuthError, RateLimited, Transient, Unknown: from ``_publish``.
        """
        self._prepare()
        problems = self.check(post)
        if problems:
            raise Rejected("; ".join(problems), platform=self.name, account=self.account)
        self.log.info("publishing %s (%d part(s))", post.content_id, len(post.parts))
        published = self._publish(post, idempotency_key)
        self.log.info("published %s as %s", post.content_id, published.url or published.remote_id)
        return published

    def _prepare(self) -> None:
        """Learn what ``check`` needs from the platform (e.g. an instance's limits)."""

    def _publish(self, post: RenderedPost, idempotency_key: str) -> Published:
        """Publish every part of ``post`` as a chain of replies, media and poll on the first.

        A failure after the first part carries the parts that did go out in
        ``error.partial``, so the publication is recorded, not resent.
        """
        root: Published | None = None
        previous: Published | None = None
        ids: list[str] = []
        for index, text in enumerate(post.parts):
            key = idempotency_key if index == 0 else f"{idempotency_key}-{index}"
            try:
                part = ThreadPart(index, text, previous, root, key)
                previous = self._publish_part(post, part)
            except ConnectorError as error:
                if root is not None:
                    error.partial = replace(root, thread_ids=tuple(ids))
                raise
            root = root or previous
            ids.append(previous.remote_id)
        assert root is not None, "a post has at least one part"
        return replace(root, thread_ids=tuple(ids))

    def _publish_part(self, post: RenderedPost, part: ThreadPart) -> Published:
        """Publish one post of a thread (``index`` 0 carries media and poll)."""
        raise NotImplementedError

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        """No metrics unless the platform has them."""
        return {}

    def account_metrics(self) -> AccountMetrics:
        """No audience figures unless the platform has them."""
        return AccountMetrics()

    def delete(self, remote_id: str, extra: Extra | None = None) -> None:
        """Refuse: this platform cannot delete."""
        raise Rejected(f"{self.name} cannot delete posts", platform=self.name, account=self.account)
